import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRepoFile, readRepoYaml, repoPath } from '../observability/support/repo.ts';
import { freePort, startRealServer } from './real-server.ts';

/**
 * The compose stack's defaults, read as an operator would deploy them; and Redis run with the
 * very flags compose gives it, to see that they hold (a Redis of this test's own).
 */
interface Service {
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  user?: string;
  read_only?: boolean;
  cap_drop?: string[];
  cap_add?: string[];
  security_opt?: string[];
}
const compose = readRepoYaml<{ services: Record<string, Service> }>('docker-compose.yml');
const services = compose.services;
const file = readRepoFile('docker-compose.yml');

/** Compose's `${VAR}`, `${VAR:-default}`, `${VAR:?error}`. */
function interpolate(value: string, env: Record<string, string>): string {
  return value.replace(/\$\{(\w+)(?::([-?])([^}]*))?\}/g, (_all, name, kind, arg) => {
    if (env[name]) return env[name]!;
    if (kind === '-') return arg;
    if (kind === '?') throw new Error(`required variable ${name}: ${arg}`);
    return '';
  });
}

describe('docker-compose.yml, as deployed', () => {
  it('ships no database password: compose refuses to start without POSTGRES_PASSWORD', () => {
    expect(file).not.toMatch(/POSTGRES_PASSWORD:-/);
    expect(() => interpolate(services.postgres!.environment!.POSTGRES_PASSWORD!, {})).toThrow(
      'POSTGRES_PASSWORD',
    );
    expect(() => interpolate(services.api!.environment!.DATABASE_URL!, {})).toThrow(
      'POSTGRES_PASSWORD',
    );
    const url = new URL(
      interpolate(services.api!.environment!.DATABASE_URL!, { POSTGRES_PASSWORD: 'pw1' }),
    );
    expect(url.password).toBe('pw1');
  });

  it('Redis has a password (the API connects with it) and never evicts the gate’s keys', () => {
    const env = { REDIS_PASSWORD: 'redis-pw-1' };
    const command = services.redis!.command!.map((arg) => interpolate(arg, env));
    const flag = (name: string) => command[command.indexOf(name) + 1];
    expect(flag('--requirepass')).toBe('redis-pw-1');
    expect(flag('--maxmemory-policy')).toBe('noeviction');
    expect(() => interpolate(services.redis!.command!.join(' '), {})).toThrow('REDIS_PASSWORD');
    expect(new URL(interpolate(services.api!.environment!.REDIS_URL!, env)).password).toBe(
      'redis-pw-1',
    );
    // The healthcheck's redis-cli authenticates through REDISCLI_AUTH.
    expect(interpolate(services.redis!.environment!.REDISCLI_AUTH!, env)).toBe('redis-pw-1');
  });

  it.each(Object.keys(services))(
    '%s runs read-only, without capabilities, unable to gain privileges',
    (name) => {
      const service = services[name]!;
      expect(service.read_only).toBe(true);
      expect(service.cap_drop).toEqual(['ALL']);
      expect(service.security_opt).toContain('no-new-privileges:true');
      // Only PostgreSQL's entrypoint needs a few back, to hand its data directory over.
      if (name === 'postgres') {
        expect([...(service.cap_add ?? [])].sort()).toEqual(
          ['CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'SETGID', 'SETUID'].sort(),
        );
      } else {
        expect(service.cap_add).toBeUndefined();
      }
    },
  );

  it('the shop is published; its metrics port, the docs and the data stores are not', () => {
    const api = services.api!;
    const published = (api.ports ?? []).map((port) => Number(port.split(':').pop()));
    expect(published).toEqual([Number(api.environment!.PORT)]);
    expect(published).not.toContain(Number(api.environment!.METRICS_PORT));
    expect(interpolate(api.environment!.API_DOCS!, {})).toBe('false');
    expect(services.postgres!.ports).toBeUndefined();
    expect(services.redis!.ports).toBeUndefined();
  });

  it('the README says why images are pinned by tag, not digest, and how to pin digests', () => {
    const readme = readRepoFile('README.md');
    expect(readme).toContain('--resolve-image-digests');
    for (const service of Object.values(services)) {
      if (service.image) expect(service.image, 'a tag, never latest').toMatch(/:[\w.-]+$/);
      expect(service.image ?? '').not.toMatch(/:latest$/);
    }
  });
});

describe('Redis with the compose flags, and the API on it', () => {
  let redis: ChildProcess;
  let port: number;
  const password = 'compose-redis-password-1';
  beforeAll(async () => {
    port = await freePort();
    const args = services
      .redis!.command!.slice(1)
      .map((arg) => interpolate(arg, { REDIS_PASSWORD: password }));
    redis = spawn('redis-server', [...args, '--port', String(port), '--bind', '127.0.0.1'], {
      stdio: 'ignore',
    });
    for (let i = 0; i < 50; i += 1) {
      const probe = new Redis({ port, password, lazyConnect: true, retryStrategy: () => null });
      probe.on('error', () => undefined);
      const up = await probe.connect().then(
        () => true,
        () => false,
      );
      probe.disconnect();
      if (up) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });
  afterAll(() => {
    redis?.kill('SIGTERM');
  });

  it('refuses a client without the password and runs noeviction', async () => {
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
      socket.once('data', (data) => {
        socket.destroy();
        resolve(data.toString());
      });
      socket.once('error', reject);
    });
    expect(answer).toMatch(/^-NOAUTH/);
    const client = new Redis({ port, password });
    expect(await client.config('GET', 'maxmemory-policy')).toEqual([
      'maxmemory-policy',
      'noeviction',
    ]);
    client.disconnect();
  });

  it('the API works with the password in REDIS_URL', async () => {
    const server = await startRealServer({ REDIS_URL: `redis://:${password}@127.0.0.1:${port}` });
    try {
      const ready = await fetch(`${server.url}/readyz`);
      expect(await ready.json()).toMatchObject({ checks: { stock_cache: 'ok' } });
    } finally {
      await server.stop();
    }
  });
});

describe('docs/SECURITY.md', () => {
  const doc = readRepoFile('docs/SECURITY.md');

  it('maps every risk of the OWASP API Security Top 10 (2023)', () => {
    for (let n = 1; n <= 10; n += 1) expect(doc).toMatch(new RegExp(`\\*\\*API${n} [A-Z]`));
  });

  it('names only test files that exist', () => {
    const named = [...doc.matchAll(/`((?:http|security|stock|faults)\/[\w*.-]+\.test\.ts)`/g)].map(
      (match) => match[1]!,
    );
    expect(named.length).toBeGreaterThan(10);
    for (const path of named) {
      if (path.includes('*')) continue;
      expect(existsSync(repoPath(`apps/api/test/${path}`)), path).toBe(true);
    }
    for (const path of ['apps/web/e2e/security.e2e.ts', 'packages/contract/test/schemas.test.ts']) {
      expect(doc).toContain(path);
      expect(existsSync(repoPath(path)), path).toBe(true);
    }
  });
});
