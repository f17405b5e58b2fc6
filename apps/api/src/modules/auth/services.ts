import { eq, sql } from 'drizzle-orm';
import type { AppContext } from '../../context.ts';
import { users } from '../../db/schema.ts';
import { AppError, RateLimitedError, ValidationError } from '../../lib/errors.ts';
import { isUniqueViolation } from '../../lib/pg-errors.ts';
import type { LoginLimiter, LoginOutcome } from './login-limiter.ts';
import { isCommonPassword } from './common-passwords.ts';
import { getUserByEmail, type UserRow } from './selectors.ts';

/** Drizzle wraps the driver's error (with its SQLSTATE) as `cause`. */
const causeOf = (error: unknown) => (error as { cause?: unknown } | null)?.cause;

export interface Session {
  readonly user: UserRow;
  readonly accessToken: string;
  readonly expiresIn: number;
}

function sessionFor(ctx: AppContext, user: UserRow): Session {
  return {
    user,
    accessToken: ctx.tokens.issue({ userId: user.id, role: user.role }),
    expiresIn: ctx.tokens.ttlSeconds,
  };
}

/**
 * A password found in the list of the most common ones, or the account's own email, is the
 * first thing any guesser tries (NIST SP 800-63B, ASVS 2.1.7): refused, nothing is created.
 */
async function refuseGuessablePassword(input: { email: string; password: string }) {
  const password = input.password.toLowerCase();
  const email = input.email.trim().toLowerCase();
  if (
    password === email ||
    password === email.split('@')[0] ||
    (await isCommonPassword(password))
  ) {
    throw new ValidationError([
      {
        path: 'body.password',
        message: 'is one of the most common passwords (or your email); choose another',
      },
    ]);
  }
}

/** A new customer account, signed in. */
export async function registerUser({
  ctx,
  input,
}: {
  ctx: AppContext;
  /** `ip`: the client's address, for the per-address sign-up limit (none when absent). */
  input: { email: string; password: string; name: string; ip?: string };
}): Promise<Session> {
  await refuseGuessablePassword(input);
  // Counted before the hash: a refused sign-up costs no hashing time.
  if (input.ip !== undefined) {
    const counted = await ctx.signupLimiter.acquire(input.ip);
    if (!counted.allowed) {
      throw new RateLimitedError(
        counted.retryAfterMs,
        'Too many accounts were created from this address; try again later.',
      );
    }
  }
  const passwordHash = await ctx.passwords.hash(input.password);
  try {
    const [user] = await ctx.db
      .insert(users)
      .values({
        email: input.email.toLowerCase(),
        name: input.name,
        passwordHash,
        role: 'customer',
      })
      .returning();
    return sessionFor(ctx, user!);
  } catch (error) {
    if (
      isUniqueViolation(error, 'users_email_key') ||
      isUniqueViolation(causeOf(error), 'users_email_key')
    ) {
      throw new AppError('email_taken', 'An account with this email already exists.');
    }
    throw error;
  }
}

/**
 * Sign in. An unknown email costs the same hash verification as a wrong password and gets the
 * same answer, so neither the words nor the timing tell which accounts exist. Every attempt is
 * counted by the limiter before any password is checked (`LoginLimiter`), and settled after:
 * a failure stays counted, a success forgets its pair's failures, an error gives its slots back.
 */
export async function loginUser({
  ctx,
  limiter,
  input,
}: {
  ctx: AppContext;
  limiter: LoginLimiter;
  input: { email: string; password: string; ip: string };
}): Promise<Session> {
  const email = input.email.toLowerCase();
  const attempt = { email, ip: input.ip };
  const admission = await limiter.acquire(attempt);
  if (!admission.allowed) {
    throw new RateLimitedError(
      admission.retryAfterMs,
      'Too many failed sign-in attempts; wait before trying again.',
    );
  }
  let outcome: LoginOutcome = 'abandoned';
  try {
    const user = await getUserByEmail({ db: ctx.db, email });
    const valid = await ctx.passwords.verify(
      user?.passwordHash ?? (await ctx.passwords.decoyHash()),
      input.password,
    );
    outcome = user && valid ? 'succeeded' : 'failed';
    if (!user || !valid) {
      throw new AppError('invalid_credentials', 'The email or password is not right.');
    }
    return sessionFor(ctx, user);
  } finally {
    await limiter.settle(attempt, admission, outcome);
  }
}

/** The bootstrap admin: created, or brought up to date (password, role) at every start. */
export async function ensureAdmin({
  ctx,
  input,
}: {
  ctx: AppContext;
  input: { email: string; password: string; name?: string };
}): Promise<{ created: boolean; userId: number }> {
  const passwordHash = await ctx.passwords.hash(input.password);
  const existing = await getUserByEmail({ db: ctx.db, email: input.email });
  if (existing) {
    await ctx.db
      .update(users)
      .set({ passwordHash, role: 'admin', updatedAt: sql`now()` })
      .where(eq(users.id, existing.id));
    return { created: false, userId: existing.id };
  }
  const [user] = await ctx.db
    .insert(users)
    .values({
      email: input.email.toLowerCase(),
      name: input.name ?? 'Administrator',
      passwordHash,
      role: 'admin',
    })
    .returning({ id: users.id });
  return { created: true, userId: user!.id };
}
