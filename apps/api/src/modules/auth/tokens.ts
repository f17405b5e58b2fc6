import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import type { Role } from '@stampede/contract';

/**
 * Access tokens: JWT (RFC 7519) signed with HS256 and nothing else, `exp` required, `sub` = the
 * user id. The algorithm is pinned by accepting exactly one header, the one this service writes:
 * `alg: none`, HS512, RS256 and every other header are refused before any signature work.
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
const SIGNATURE_BYTES = 32;

export function createTokenService(options: { secret: string; ttlSeconds: number }): TokenService {
  if (Buffer.byteLength(options.secret) < 32)
    throw new Error('JWT secret must be at least 32 bytes');
  const key: KeyObject = createSecretKey(Buffer.from(options.secret));
  const mac = (signingInput: string) => createHmac('sha256', key).update(signingInput).digest();

  return {
    ttlSeconds: options.ttlSeconds,
    issue({ userId, role }) {
      const now = Math.floor(Date.now() / 1000);
      const payload = { sub: String(userId), role, iat: now, exp: now + options.ttlSeconds };
      const signingInput = `${HEADER}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
      return `${signingInput}.${mac(signingInput).toString('base64url')}`;
    },
    verify(token) {
      const firstDot = token.indexOf('.');
      const secondDot = token.indexOf('.', firstDot + 1);
      if (firstDot < 0 || secondDot < 0 || token.indexOf('.', secondDot + 1) >= 0) return undefined;
      if (token.slice(0, firstDot) !== HEADER) return undefined;
      const signature = Buffer.from(token.slice(secondDot + 1), 'base64url');
      if (signature.length !== SIGNATURE_BYTES) return undefined;
      if (!timingSafeEqual(signature, mac(token.slice(0, secondDot)))) return undefined;
      let payload: { sub?: unknown; role?: unknown; exp?: unknown; nbf?: unknown };
      try {
        payload = JSON.parse(
          Buffer.from(token.slice(firstDot + 1, secondDot), 'base64url').toString(),
        );
      } catch {
        return undefined;
      }
      if (typeof payload !== 'object' || payload === null) return undefined;
      const now = Date.now() / 1000;
      if (typeof payload.exp !== 'number' || payload.exp <= now) return undefined;
      if (payload.nbf !== undefined && (typeof payload.nbf !== 'number' || payload.nbf > now)) {
        return undefined;
      }
      if (typeof payload.sub !== 'string' || !/^[1-9][0-9]{0,9}$/.test(payload.sub))
        return undefined;
      const userId = Number(payload.sub);
      if (userId > 2_147_483_647) return undefined;
      return { userId, role: payload.role === 'admin' ? 'admin' : 'customer' };
    },
  };
}
