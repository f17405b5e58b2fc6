import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { AppContext } from '../context.ts';

/** A module's routes: a Fastify plugin given the runtime context. */
export type RoutesPlugin = (app: FastifyInstance, options: { ctx: AppContext }) => Promise<void>;

export function typed(app: FastifyInstance) {
  return app.withTypeProvider<ZodTypeProvider>();
}
