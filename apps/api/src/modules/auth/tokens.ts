import { createSigner, createVerifier } from 'fast-jwt';
import type { Role } from '@stampede/contract';

/**
 * Access tokens: JWT, HS256 only (the algorithm is pinned on both sides, so `alg: none` and
 * algorithm-confusion tokens are refused), `exp` required, `sub` = the user id.
 */
export interface TokenClaims {
  readonly userId: number;
  readonly role: Role;
}

export interface TokenService {
  readonly ttlSeconds: number;
  issue(claims: TokenClaims): string;
  /** The claims of a valid token, or undefined for anything else. */
  verify(token: string): TokenClaims | undefined;
}

export function createTokenService(options: { secret: string; ttlSeconds: number }): TokenService {
  if (Buffer.byteLength(options.secret) < 32)
    throw new Error('JWT secret must be at least 32 bytes');
  const sign = createSigner({
    key: options.secret,
    algorithm: 'HS256',
    expiresIn: options.ttlSeconds * 1000,
  });
  const verifyToken = createVerifier({
    key: options.secret,
    algorithms: ['HS256'],
    requiredClaims: ['exp', 'sub'],
    // No verified-token cache: during a sale most tokens are seen once, and hashing each one
    // to look it up costs twice what verifying it does (and holds memory).
  });
  return {
    ttlSeconds: options.ttlSeconds,
    issue: ({ userId, role }) => sign({ sub: String(userId), role }),
    verify(token) {
      try {
        const payload = verifyToken(token) as { sub?: unknown; role?: unknown };
        const userId = Number(payload.sub);
        if (!Number.isSafeInteger(userId) || userId <= 0) return undefined;
        const role = payload.role === 'admin' ? 'admin' : 'customer';
        return { userId, role };
      } catch {
        return undefined;
      }
    },
  };
}
