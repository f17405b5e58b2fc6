import { createHmac } from 'node:crypto';

/** Hand-made JWTs, to present the API with every kind of bad token. */
const b64url = (value: unknown) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

export function signToken(
  payload: Record<string, unknown>,
  options: { secret: string; alg?: 'HS256' | 'HS384' | 'HS512'; header?: Record<string, unknown> },
): string {
  const alg = options.alg ?? 'HS256';
  const head = b64url({ alg, typ: 'JWT', ...options.header });
  const body = b64url(payload);
  const digest = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' }[alg];
  const signature = createHmac(digest, options.secret)
    .update(`${head}.${body}`)
    .digest('base64url');
  return `${head}.${body}.${signature}`;
}

/** `alg: none`, no signature: must never be accepted. */
export function unsignedToken(payload: Record<string, unknown>): string {
  return `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(payload)}.`;
}

/** The same token with its payload swapped and the original signature kept. */
export function tamperedToken(token: string, payload: Record<string, unknown>): string {
  const [head, , signature] = token.split('.');
  return `${head}.${b64url(payload)}.${signature}`;
}

export const nowSeconds = () => Math.floor(Date.now() / 1000);
