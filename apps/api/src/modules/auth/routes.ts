import { AuthSession, ErrorBody, LoginInput, MeResponse, RegisterInput } from '@stampede/contract';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.ts';
import { typed } from '../../http/route-types.ts';
import { UnauthorizedError } from '../../lib/errors.ts';
import type { LoginLimiter } from './login-limiter.ts';
import { principalOf } from '../../http/principal.ts';
import { getUserById, toUser } from './selectors.ts';
import { loginUser, registerUser, type Session } from './services.ts';

function toSession(session: Session) {
  return {
    user: toUser(session.user),
    access_token: session.accessToken,
    expires_in: session.expiresIn,
  };
}

export async function authRoutes(
  app: FastifyInstance,
  { ctx, loginLimiter }: { ctx: AppContext; loginLimiter: LoginLimiter },
): Promise<void> {
  const r = typed(app);

  // Behind a proxy that TRUST_PROXY does not name, every client is the proxy's one address to
  // the sign-in limits: say so once, rather than let the operator find out from a crowd.
  let proxyWarned = ctx.config.trustProxy !== false;
  const warnIfProxyUntrusted = (request: FastifyRequest) => {
    if (proxyWarned || request.headers['x-forwarded-for'] === undefined) return;
    proxyWarned = true;
    request.log.warn(
      'sign-in requests carry X-Forwarded-For but TRUST_PROXY is not set: every client behind ' +
        'that proxy counts as one address for the sign-in limits; set TRUST_PROXY',
    );
  };

  r.post(
    '/register',
    {
      schema: {
        tags: ['auth'],
        summary: 'Create a customer account',
        description:
          'Sign-ups are limited per address (IPv6 by /64): SIGNUP_LIMIT_PER_HOUR accounts an ' +
          'hour (default 5), then 429 rate_limited with Retry-After until the hour is over.',
        body: RegisterInput,
        response: { 201: AuthSession, 400: ErrorBody, 409: ErrorBody, 429: ErrorBody },
      },
    },
    async (request, reply) => {
      warnIfProxyUntrusted(request);
      const session = await registerUser({ ctx, input: { ...request.body, ip: request.ip } });
      return reply.code(201).send(toSession(session));
    },
  );

  r.post(
    '/login',
    {
      schema: {
        tags: ['auth'],
        summary: 'Sign in',
        description:
          'An unknown email and a wrong password get the same 401 invalid_credentials. Attempts ' +
          'are slowed, never locked: per account and address 5 are free, then each waits twice ' +
          'as long as the last (1 s up to 15 minutes); from an address that never signed in to ' +
          'the account, the account and the address also allow 20, then wait up to a minute. ' +
          'A refused attempt gets 429 rate_limited with Retry-After; a success clears its pair.',
        body: LoginInput,
        response: { 200: AuthSession, 400: ErrorBody, 401: ErrorBody, 429: ErrorBody },
      },
    },
    async (request) => {
      warnIfProxyUntrusted(request);
      return toSession(
        await loginUser({ ctx, limiter: loginLimiter, input: { ...request.body, ip: request.ip } }),
      );
    },
  );

  r.get(
    '/me',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['auth'],
        summary: 'The signed-in user',
        security: [{ bearerAuth: [] }],
        response: { 200: MeResponse, 401: ErrorBody },
      },
    },
    async (request) => {
      const user = await getUserById({ db: ctx.db, userId: principalOf(request).userId });
      if (!user) throw new UnauthorizedError('This account no longer exists.');
      return { user: toUser(user) };
    },
  );
}
