import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { AppContext } from '../../context.ts';
import { ForbiddenError, UnauthorizedError } from '../../lib/errors.ts';
import { getUserById } from './selectors.ts';

// The scheme name is case-insensitive (RFC 9110 section 11.1); the token is one JWS compact string.
const BEARER = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)$/i;

export const authPlugin = fp(
  async (app: FastifyInstance, { ctx }: { ctx: AppContext }) => {
    app.decorateRequest('principal', null);

    const authenticate = async (request: FastifyRequest): Promise<void> => {
      const header = request.headers.authorization;
      const match = typeof header === 'string' ? BEARER.exec(header) : null;
      const claims = match ? ctx.tokens.verify(match[1]!) : undefined;
      if (!claims) throw new UnauthorizedError('A valid access token is required.');
      request.principal = claims;
    };

    app.decorate('authenticate', authenticate);
    app.decorate('requireAdmin', async (request: FastifyRequest) => {
      await authenticate(request);
      const user = await getUserById({ db: ctx.db, userId: request.principal!.userId });
      if (!user) throw new UnauthorizedError('This account no longer exists.');
      if (user.role !== 'admin') throw new ForbiddenError('This needs an administrator.');
      request.principal = { userId: user.id, role: user.role };
    });
  },
  { name: 'stampede-auth' },
);
