/**
 * Passwords people pick most, from `@zxcvbn-ts/language-common` (about 49,000 from leaked
 * password lists, ranked; the dictionary zxcvbn-ts estimates strength with). It ships with the
 * package: nothing is fetched. Loaded on the first check (a few MB, a few tens of ms), then kept; the runtime
 * loads it at start-up, so no request waits for it.
 */
let list: Promise<Set<string>> | undefined;

/** Load the list now (at start-up), not in the middle of the first sign-up. */
export async function commonPasswords(): Promise<Set<string>> {
  list ??= import('@zxcvbn-ts/language-common').then(
    ({ dictionary }) => new Set(dictionary['passwords-common'].map((word) => word.toLowerCase())),
  );
  return list;
}

/** True when the password, ignoring case, is one of the common ones. */
export async function isCommonPassword(password: string): Promise<boolean> {
  return (await commonPasswords()).has(password.toLowerCase());
}
