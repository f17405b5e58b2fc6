import { mkdtempSync, readFileSync, rmSync, statSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { users } from '../../src/db/schema.ts';
import { DEMO_ADMIN_EMAIL, startRuntime } from '../../src/runtime.ts';
import { call, expectError } from '../support/http-helpers.ts';
import { createTestRuntime, type TestRuntime } from '../support/runtime.ts';
import {
  startObservedRuntime,
  type ObservedRuntime,
} from '../observability/support/observed-runtime.ts';
import { makeWebDist } from './web-dist.ts';

/** What logs and files give away to whoever reads them, or asks for them. */
describe('the request log', () => {
  let rt: ObservedRuntime;
  beforeAll(async () => {
    rt = await startObservedRuntime({ env: { REQUEST_LOG: 'true' }, logLevel: 'info' });
  });
  afterAll(() => rt.close());

  it('never keeps a credential sent in a query string', async () => {
    const app = await rt.newApp();
    const secrets = ['eyJhbGciOiJIUzI1NiJ9.leaked.token', 'hunter2-in-the-url', 'k3y-v4lue'];
    const urls = [
      `/api/products?access_token=${secrets[0]}&page=2`,
      `/api/auth/me?password=${secrets[1]}`,
      `/api/products?page_size=5&API_KEY=${secrets[2]}`,
      `/api/nothing?refresh%5Ftoken=${secrets[0]}`,
    ];
    for (const url of urls) await call(app, { method: 'GET', url });
    const lines = rt.logs.lines().filter((line) => line.msg === 'request answered');
    expect(lines.length).toBeGreaterThanOrEqual(urls.length);
    const text = JSON.stringify(rt.logs.lines());
    for (const secret of secrets) expect(text).not.toContain(secret);
    const logged = lines.map((line) => line.url);
    expect(logged).toContain('/api/products?access_token=[redacted]&page=2');
    expect(logged).toContain('/api/products?page_size=5&API_KEY=[redacted]');
  });
});

describe('the built web app', () => {
  const web = makeWebDist({
    '.git/config': '[remote "origin"]\n\turl = git@internal:shop.git\n',
    '.env': 'JWT_SECRET=do-not-serve-me\n',
    'assets/.hidden.js': 'hidden()',
    'assets/app.js.map': '{"version":3,"sources":["../src/secret-business-logic.ts"]}',
  });
  let rt: TestRuntime;
  beforeAll(async () => {
    rt = await createTestRuntime({ env: { WEB_DIST_DIR: web.dir } });
  });
  afterAll(async () => {
    await rt.close();
    web.remove();
  });

  it.each(['/.git/config', '/.env', '/assets/.hidden.js', '/.git/', '/%2egit/config'])(
    'does not serve the dotfile %s, not even as the page',
    async (url) => {
      const app = await rt.app();
      for (const accept of ['*/*', 'text/html']) {
        const res = await call(app, { method: 'GET', url, headers: { accept } });
        expectError(res, 404, 'not_found');
        expect(res.body).not.toMatch(/remote|JWT_SECRET|hidden\(\)|<div id="root">/);
      }
    },
  );

  it.each(['/images/products/.secret', '/images/products/..%2f..%2fpackage.json'])(
    'does not serve %s from the product images either',
    async (url) => {
      const app = await rt.app();
      const res = await call(app, { method: 'GET', url });
      expect(res.statusCode).toBeGreaterThanOrEqual(400);
      expect(res.statusCode).toBeLessThan(500);
    },
  );

  it('does not serve source maps, nor point at them, by default', async () => {
    const app = await rt.app();
    const map = await call(app, { method: 'GET', url: '/assets/app.js.map' });
    expectError(map, 404, 'not_found');
    expect(map.body).not.toContain('secret-business-logic');
    const script = await call(app, { method: 'GET', url: '/assets/app.js' });
    expect(script.statusCode).toBe(200);
    expect(script.headers.sourcemap).toBeUndefined();
  });
});

describe('the built web app with WEB_SOURCE_MAPS=true', () => {
  const web = makeWebDist({ 'assets/app.js.map': '{"version":3,"sources":["../src/app.ts"]}' });
  let rt: TestRuntime;
  beforeAll(async () => {
    rt = await createTestRuntime({ env: { WEB_DIST_DIR: web.dir, WEB_SOURCE_MAPS: 'true' } });
  });
  afterAll(async () => {
    await rt.close();
    web.remove();
  });

  it('serves the maps and names each script’s map in a SourceMap header', async () => {
    const app = await rt.app();
    const script = await call(app, { method: 'GET', url: '/assets/app.js' });
    expect(script.headers.sourcemap).toBe('app.js.map');
    const map = await call(app, { method: 'GET', url: '/assets/app.js.map' });
    expect(map.statusCode).toBe(200);
    expect(map.body).toContain('"version":3');
  });
});

describe('the demo operator', () => {
  it('is never created on a real database, even with SEED_DEMO=true', async () => {
    const rt = await createTestRuntime({ env: { SEED_DEMO: 'true' } });
    try {
      const admins = await rt.ctx.db.select().from(users).where(eq(users.email, DEMO_ADMIN_EMAIL));
      expect(admins).toEqual([]);
      expectError(
        await call(await rt.app(), {
          method: 'POST',
          url: '/api/auth/login',
          payload: { email: DEMO_ADMIN_EMAIL, password: 'anything at all' },
        }),
        401,
        'invalid_credentials',
      );
    } finally {
      await rt.close();
    }
  });

  it('in the embedded default: its password is in a 0600 file under DATA_DIR, the log names the file only', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'stampede-embedded-'));
    // As root, the embedded server runs as `postgres`, which must be able to enter the dir.
    chmodSync(dataDir, 0o755);
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    const config = loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'info', REQUEST_LOG: 'false' });
    let runtime = await startRuntime(config, logger, { jobs: false });
    try {
      const file = join(dataDir, 'demo-admin-password');
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const password = readFileSync(file, 'utf8').trim();
      expect(password.length).toBeGreaterThanOrEqual(16);
      const log = lines.join('');
      expect(log).not.toContain(password);
      expect(log).toContain(`the password in ${file}`);
      const app = await buildApp({ ctx: runtime.ctx });
      const res = await call(app, {
        method: 'POST',
        url: '/api/auth/login',
        payload: { email: DEMO_ADMIN_EMAIL, password },
      });
      expect(res.statusCode).toBe(200);
      expect(res.json().user.role).toBe('admin');
      await app.close();
      // A restart keeps the operator and the file, and still logs no password.
      await runtime.close();
      lines.length = 0;
      runtime = await startRuntime(config, logger, { jobs: false });
      expect(readFileSync(file, 'utf8').trim()).toBe(password);
      expect(lines.join('')).not.toContain(password);
    } finally {
      await runtime.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});
