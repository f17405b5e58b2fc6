import type { FastifyReply, FastifyRequest } from 'fastify';
import { UnauthorizedError } from '../lib/errors.ts';

/**
 * Who is asking: set on the request by the auth plugin's hooks, read by any route. It lives
 * with the HTTP plumbing, not in the auth module, so that every module's routes can read it.
 */
export interface Principal {
  readonly userId: number;
  readonly role: 'customer' | 'admin';
}

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyInstance {
    /** preHandler: any signed-in user. */
    authenticate(request: FastifyRequest, reply: FastifyReply): Promise<void>;
    /** preHandler: an admin, with the role checked in the database, not only in the token. */
    requireAdmin(request: FastifyRequest, reply: FastifyReply): Promise<void>;
  }
}

/** The signed-in user of a request, or a 401. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new UnauthorizedError();
  return request.principal;
}
