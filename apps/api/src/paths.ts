import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Files the API reads at run time, found from the package root, so the same code works run from
 * its TypeScript sources (dev, tests) and from the bundle in dist/ (`npm start`, the image).
 */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (
      existsSync(manifest) &&
      JSON.parse(readFileSync(manifest, 'utf8')).name === '@stampede/api'
    ) {
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the @stampede/api package root');
    dir = parent;
  }
}

export const API_ROOT = packageRoot();
export const LUA_DIR = join(API_ROOT, 'src/modules/stock/gate/lua');
export const AUTH_LUA_DIR = join(API_ROOT, 'src/modules/auth/lua');
export const QUEUE_LUA_DIR = join(API_ROOT, 'src/modules/queue/lua');
export const MIGRATIONS_DIR = join(API_ROOT, 'src/db/migrations');
export const PRODUCT_IMAGES_DIR = join(API_ROOT, 'assets/products');
export const DEFAULT_WEB_DIST = join(API_ROOT, '../web/dist');
