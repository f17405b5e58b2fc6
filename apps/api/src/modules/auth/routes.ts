import { AuthSession, ErrorBody, LoginInput, MeResponse, RegisterInput } from '@stampede/contract';
import type { FastifyInstance } from 'fastify';
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

  r.post(
    '/register',
    {
      schema: {
        tags: ['auth'],
        summary: 'Create a customer account',
        body: RegisterInput,
        response: { 201: AuthSession, 400: ErrorBody, 409: ErrorBody },
      },
    },
    async (request, reply) =>
      reply.code(201).send(toSession(await registerUser({ ctx, input: request.body }))),
  );

  r.post(
    '/login',
    {
      schema: {
        tags: ['auth'],
        summary: 'Sign in',
        description:
          'An unknown email and a wrong password get the same 401 invalid_credentials. After 5 ' +
          'failed sign-ins for one email, or 20 from one address, within 15 minutes (from the ' +
          'first), further attempts get 429 rate_limited with Retry-After; a successful sign-in ' +
          'clears the email’s count.',
        body: LoginInput,
        response: { 200: AuthSession, 400: ErrorBody, 401: ErrorBody, 429: ErrorBody },
      },
    },
    async (request) =>
      toSession(
        await loginUser({ ctx, limiter: loginLimiter, input: { ...request.body, ip: request.ip } }),
      ),
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
