import { hash, verify, type Options } from '@node-rs/argon2';
import { AppError } from '../../lib/errors.ts';

/**
 * argon2id with OWASP's recommended minimum (19 MiB memory, 2 passes, 1 lane). Hashing runs on
 * libuv's thread pool, which file reads (the web app, images), DNS and compression share: a
 * burst of sign-ups left to itself takes every thread and the whole shop waits behind it. So a
 * `PasswordHasher` runs a bounded number of hashes at once (fewer than the pool's threads),
 * queues a bounded number more, and refuses the rest with 503 and Retry-After.
 */
// `algorithm: 2` is Algorithm.Argon2id (a const enum, which isolated modules cannot import).
const OPTIONS: Options = { algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 };

/** One hash, unbounded: for fixtures and scripts. The API hashes through a `PasswordHasher`. */
export function hashPassword(password: string): Promise<string> {
  return hash(password, OPTIONS);
}

export class HashingBusyError extends AppError {
  constructor() {
    super(
      'service_unavailable',
      'Too many sign-ins at this moment; try again in a second.',
      undefined,
      { retryAfterSeconds: 1 },
    );
  }
}

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** False for a wrong password and for a hash that cannot be read. */
  verify(passwordHash: string, password: string): Promise<boolean>;
  /**
   * A real hash of a random password: verifying against it when the email is unknown makes an
   * unknown email cost the same time as a wrong password, so timing does not reveal accounts.
   */
  decoyHash(): Promise<string>;
  /** Hashes running and waiting now. */
  readonly load: { readonly running: number; readonly waiting: number };
}

export function createPasswordHasher(options: {
  concurrency: number;
  maxWaiting: number;
}): PasswordHasher {
  let running = 0;
  const waiting: (() => void)[] = [];
  const bounded = async <T>(work: () => Promise<T>): Promise<T> => {
    if (running >= options.concurrency) {
      if (waiting.length >= options.maxWaiting) throw new HashingBusyError();
      await new Promise<void>((resolve) => waiting.push(resolve));
    } else {
      running += 1;
    }
    try {
      return await work();
    } finally {
      // The slot passes straight to the next in line, so `running` never exceeds the bound.
      const next = waiting.shift();
      if (next) next();
      else running -= 1;
    }
  };
  let decoy: Promise<string> | undefined;
  return {
    hash: (password) => bounded(() => hash(password, OPTIONS)),
    verify: (passwordHash, password) =>
      bounded(() => verify(passwordHash, password).catch(() => false)),
    decoyHash() {
      decoy ??= hashPassword(`decoy-${Math.random()}-${Date.now()}`);
      decoy.catch(() => (decoy = undefined));
      return decoy;
    },
    get load() {
      return { running, waiting: waiting.length };
    },
  };
}
