import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import type { Role } from '@stampede/contract';

/**
 * Access tokens: JWT (RFC 7519) signed with HS256 and nothing else, `sub` = the user id, and
 * `iss`, `aud`, `iat`, `exp` always present and always checked. The algorithm is pinned by
 * accepting exactly one header, the one this service writes: `alg: none`, HS512, RS256 and every
 * other header are refused before any signature work.
 *
 * A token has exactly one valid string: the signature is compared as the text this service
 * would write (unpadded base64url), not as decoded bytes. Decoding is lenient (the unused bits
 * of the last character, `+` for `-`, padding), so comparing bytes would let four or more
 * spellings of one signature verify, and a token denied by its exact string (in a log, a cache,
 * a deny list) could come back in another spelling.
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

const HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
/** 32 bytes of HMAC-SHA256 as unpadded base64url. */
const SIGNATURE_CHARS = 43;
/** Clock difference tolerated between the processes that issue and verify (seconds). */
const CLOCK_SKEW_S = 60;
/** Verified tokens remembered (about 200 bytes each). */
const VERIFIED_TOKENS = 20_000;

export function createTokenService(options: {
  secret: string;
  ttlSeconds: number;
  issuer: string;
  audience: string;
}): TokenService {
  if (Buffer.byteLength(options.secret) < 32)
    throw new Error('JWT secret must be at least 32 bytes');
  const key: KeyObject = createSecretKey(Buffer.from(options.secret));
  const sign = (signingInput: string) =>
    createHmac('sha256', key).update(signingInput).digest('base64url');
  const { issuer, audience, ttlSeconds } = options;
  // Tokens already verified, by their exact string: a buyer sends the same token with every
  // attempt of a sale, and its signature (an HMAC) was the largest part of a refusal's cost
  // after the answer's own write. Only a valid token is kept, with its expiry, which is checked
  // again on every use; a token with a future `nbf` is never kept. Oldest first out.
  const verified = new Map<string, { claims: TokenClaims; exp: number }>();

  return {
    ttlSeconds,
    issue({ userId, role }) {
      const now = Math.floor(Date.now() / 1000);
      const payload = {
        iss: issuer,
        aud: audience,
        sub: String(userId),
        role,
        iat: now,
        exp: now + ttlSeconds,
      };
      const signingInput = `${HEADER}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
      return `${signingInput}.${sign(signingInput)}`;
    },
    verify(token) {
      const known = verified.get(token);
      if (known) {
        if (known.exp > Date.now() / 1000) return known.claims;
        verified.delete(token);
        return undefined;
      }
      const checked = check(token);
      if (checked) {
        if (verified.size >= VERIFIED_TOKENS) verified.delete(verified.keys().next().value!);
        verified.set(token, checked);
      }
      return checked?.claims;
    },
  };

  /** A token's claims and expiry if it is valid now, by the rules above. */
  function check(token: string): { claims: TokenClaims; exp: number } | undefined {
    const firstDot = token.indexOf('.');
    const secondDot = token.indexOf('.', firstDot + 1);
    if (firstDot < 0 || secondDot < 0 || token.indexOf('.', secondDot + 1) >= 0) return undefined;
    if (token.slice(0, firstDot) !== HEADER) return undefined;
    const signature = Buffer.from(token.slice(secondDot + 1));
    if (signature.length !== SIGNATURE_CHARS) return undefined;
    if (!timingSafeEqual(signature, Buffer.from(sign(token.slice(0, secondDot))))) {
      return undefined;
    }
    let payload: Record<string, unknown>;
    try {
      payload = JSON.parse(
        Buffer.from(token.slice(firstDot + 1, secondDot), 'base64url').toString(),
      );
    } catch {
      return undefined;
    }
    if (typeof payload !== 'object' || payload === null) return undefined;
    if (payload.iss !== issuer || payload.aud !== audience) return undefined;
    const now = Date.now() / 1000;
    const { iat, exp, nbf, sub } = payload;
    if (typeof iat !== 'number' || typeof exp !== 'number') return undefined;
    // Never valid for longer than this service issues tokens for, nor issued in the future.
    if (exp <= now || iat > now + CLOCK_SKEW_S || exp - iat > ttlSeconds) return undefined;
    if (nbf !== undefined && (typeof nbf !== 'number' || nbf > now)) return undefined;
    if (typeof sub !== 'string' || !/^[1-9][0-9]{0,9}$/.test(sub)) return undefined;
    const userId = Number(sub);
    if (userId > 2_147_483_647) return undefined;
    return { claims: { userId, role: payload.role === 'admin' ? 'admin' : 'customer' }, exp };
  }
}
