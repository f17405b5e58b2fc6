import { existsSync } from 'node:fs';
import { PRODUCT_IMAGES_DIR } from '../paths.ts';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fastifyStatic from '@fastify/static';

/** Paths that belong to the API and never fall back to the web app. */
const API_PATHS = /^\/(api|docs|openapi\.json|metrics|healthz|readyz)(\/|\?|$)/;

/**
 * The built web app at `/` and the demo illustrations at `/images/products/`. Any other GET for
 * a page (not an API path) answers index.html, so client-side routes survive a reload.
 * Returns the fallback to use in the not-found handler, or undefined when there is no build.
 */
export async function registerWeb(
  app: FastifyInstance,
  webDistDir: string,
): Promise<
  ((request: FastifyRequest, reply: FastifyReply) => FastifyReply | undefined) | undefined
> {
  await app.register(fastifyStatic, {
    root: PRODUCT_IMAGES_DIR,
    prefix: '/images/products/',
    decorateReply: false,
    maxAge: '1d',
  });
  if (!existsSync(`${webDistDir}/index.html`)) {
    app.log.warn({ webDistDir }, 'no web build found; only the API is served');
    return undefined;
  }
  await app.register(fastifyStatic, {
    root: webDistDir,
    prefix: '/',
    wildcard: true,
    index: ['index.html'],
    // Hashed assets never change; index.html must always be fresh.
    setHeaders: (res, path) => {
      res.header(
        'cache-control',
        path.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
      );
    },
  });
  return (request, reply) => {
    const wantsPage =
      request.method === 'GET' &&
      !API_PATHS.test(request.url) &&
      (request.headers.accept ?? '').includes('text/html');
    if (!wantsPage) return undefined;
    return reply.header('cache-control', 'no-cache').sendFile('index.html', webDistDir);
  };
}
