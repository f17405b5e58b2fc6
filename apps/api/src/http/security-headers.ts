import type { FastifyReply } from 'fastify';

/**
 * The browser security headers of every answer. The web app has no inline script or style and
 * loads everything from its own origin, so its policy is strict: scripts, styles, fonts and
 * connections from this origin only; images also from the operator's allow-list
 * (IMAGE_ORIGINS); no plugins, no <base>, forms post here only, and no one may frame the shop
 * (`frame-ancestors 'none'`, and X-Frame-Options for browsers that predate it). API answers get
 * the same policy: a JSON body opened as a page can do nothing either.
 */
export interface SecurityHeaderOptions {
  /** TLS is terminated in front of the API: send HSTS and upgrade stray http:// subresources. */
  readonly tlsInFront: boolean;
  /** Origins (scheme://host[:port]) product images may come from, beside this one. */
  readonly imageOrigins: readonly string[];
}

/** HSTS for a year; subdomains are the operator's to decide, so they are not included. */
const HSTS = 'max-age=31536000';

export function contentSecurityPolicy(options: SecurityHeaderOptions): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    `img-src ${["'self'", ...options.imageOrigins].join(' ')}`,
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    ...(options.tlsInFront ? ['upgrade-insecure-requests'] : []),
  ].join('; ');
}

/**
 * Answers that carry a token, orders, a buyer's queue ticket or the operator's data: no cache
 * may keep them.
 */
const PRIVATE_PATHS = /^\/api\/(?:auth|orders|admin|queues)(?:[/?]|$)/;

/** Sets the headers on a reply; call it for every request, before anything answers it. */
export function securityHeaders(options: SecurityHeaderOptions) {
  const always: Record<string, string> = {
    'content-security-policy': contentSecurityPolicy(options),
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    'permissions-policy': 'camera=(), microphone=(), geolocation=()',
    ...(options.tlsInFront ? { 'strict-transport-security': HSTS } : {}),
  };
  return (reply: FastifyReply, url: string): void => {
    reply.headers(always);
    if (PRIVATE_PATHS.test(url)) reply.header('cache-control', 'no-store');
  };
}

/**
 * Swagger UI needs its own inline script and styles (allowed by hash in the policy the
 * plugin writes); it still may not be framed, and upgrades http:// only behind TLS.
 */
export function docsPolicy(policy: string, options: SecurityHeaderOptions): string {
  const framed = policy.replace(/frame-ancestors [^;]*/, "frame-ancestors 'none'");
  return options.tlsInFront ? framed : framed.replace(/\s*upgrade-insecure-requests;?/, '');
}
