import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { PRODUCT_IMAGES_DIR } from '../paths.ts';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fastifyStatic from '@fastify/static';

/** Paths that belong to the API and never fall back to the web app. */
const API_PATHS = /^\/(api|docs|openapi\.json|metrics|healthz|readyz)(\/|\?|$)/;

/**
 * A path with a segment starting with a dot (`/.git/config`, `/.env`, `/assets/.map`): never
 * served, never answered with the page either (a scanner must see a plain 404).
 */
const DOT_SEGMENT = /(^|\/)\.[^/]/;

function hasDotSegment(url: string): boolean {
  const path = url.split('?')[0]!;
  try {
    return DOT_SEGMENT.test(decodeURIComponent(path));
  } catch {
    return true;
  }
}

/**
 * The built web app at `/` and the demo illustrations at `/images/products/`. Any other GET for
 * a page (not an API path) answers index.html, so client-side routes survive a reload.
 * Returns the fallback to use in the not-found handler, or undefined when there is no build.
 *
 * Source maps are built but not referenced from the scripts (Vite's `hidden`); they are served,
 * with a `SourceMap` header on their scripts, only when `sourceMaps` (WEB_SOURCE_MAPS) is on.
 */
export async function registerWeb(
  app: FastifyInstance,
  options: { webDistDir: string; sourceMaps: boolean },
): Promise<
  ((request: FastifyRequest, reply: FastifyReply) => FastifyReply | undefined) | undefined
> {
  const { webDistDir, sourceMaps } = options;
  await app.register(fastifyStatic, {
    root: PRODUCT_IMAGES_DIR,
    prefix: '/images/products/',
    decorateReply: false,
    dotfiles: 'ignore',
    maxAge: '1d',
  });
  if (!existsSync(`${webDistDir}/index.html`)) {
    app.log.warn({ webDistDir }, 'no web build found; only the API is served');
    return undefined;
  }
  const assets = join(webDistDir, 'assets');
  const maps = new Set(
    existsSync(assets) ? readdirSync(assets).filter((name) => name.endsWith('.map')) : [],
  );
  await app.register(fastifyStatic, {
    root: webDistDir,
    prefix: '/',
    wildcard: true,
    index: ['index.html'],
    dotfiles: 'ignore',
    allowedPath: (path) => sourceMaps || !path.endsWith('.map'),
    // Hashed assets never change; index.html must always be fresh.
    setHeaders: (res, path) => {
      const asset = path.includes('/assets/');
      res.header('cache-control', asset ? 'public, max-age=31536000, immutable' : 'no-cache');
      const name = path.slice(path.lastIndexOf('/') + 1);
      if (sourceMaps && asset && maps.has(`${name}.map`)) res.header('sourcemap', `${name}.map`);
    },
  });
  return (request, reply) => {
    const wantsPage =
      request.method === 'GET' &&
      !API_PATHS.test(request.url) &&
      !hasDotSegment(request.url) &&
      (request.headers.accept ?? '').includes('text/html');
    if (!wantsPage) return undefined;
    return reply.header('cache-control', 'no-cache').sendFile('index.html', webDistDir);
  };
}
