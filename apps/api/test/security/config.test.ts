import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { API_ROOT } from '../../src/paths.ts';

/** The settings of the hardening, refused at boot with one line naming the variable. */
const refused = (env: Record<string, string>) => {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error(`accepted ${JSON.stringify(env)}`);
};

const DATABASE_URL = 'postgres://stampede@db.example:5432/stampede';
const SECRET = 'k'.repeat(40);

describe('configuration of the hardening', () => {
  describe('the signing key', () => {
    it('several processes without JWT_SECRET refuse to start instead of each inventing a key', () => {
      expect(refused({ DATABASE_URL })).toMatch(
        /^Invalid configuration: JWT_SECRET must be set when DATABASE_URL is set/,
      );
      expect(refused({ DATABASE_URL, REDIS_URL: 'redis://r:6379', WORKERS: '2' })).toMatch(
        /^Invalid configuration: JWT_SECRET /,
      );
    });

    it('the embedded default (one process, no database URL) still generates its own', () => {
      expect(loadConfig({}).jwtSecret).toBeUndefined();
      expect(loadConfig({ DATABASE_URL, JWT_SECRET: SECRET }).jwtSecret).toBe(SECRET);
    });

    it('a process started without the key stops with that one line on stderr, exit code 1', () => {
      const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/check-config.ts'], {
        cwd: API_ROOT,
        env: { PATH: process.env.PATH, DATABASE_URL },
        encoding: 'utf8',
      });
      expect(result.status).toBe(1);
      expect(result.stderr.trim().split('\n')).toEqual([
        expect.stringMatching(/^Invalid configuration: JWT_SECRET must be set/),
      ]);
    });

    it('a token lives at most 12 hours', () => {
      expect(loadConfig({ JWT_TTL_S: '43200' }).jwtTtlSeconds).toBe(43200);
      expect(refused({ JWT_TTL_S: '86400' })).toMatch(/^Invalid configuration: JWT_TTL_S /);
    });
  });

  describe('slow clients', () => {
    it('every connection has deadlines by default', () => {
      expect(loadConfig({}).timeouts).toEqual({
        requestMs: 10_000,
        headersMs: 5_000,
        keepAliveMs: 5_000,
      });
    });

    it('refuses headers allowed longer than the whole request', () => {
      expect(refused({ REQUEST_TIMEOUT_MS: '2000', HEADERS_TIMEOUT_MS: '3000' })).toMatch(
        /^Invalid configuration: HEADERS_TIMEOUT_MS must not exceed REQUEST_TIMEOUT_MS/,
      );
      expect(refused({ KEEP_ALIVE_TIMEOUT_MS: 'soon' })).toMatch(
        /^Invalid configuration: KEEP_ALIVE_TIMEOUT_MS must be an integer/,
      );
    });
  });

  describe('image origins', () => {
    it('takes comma-separated origins and keeps each as its origin', () => {
      expect(
        loadConfig({ IMAGE_ORIGINS: 'https://cdn.example.com, https://img.example.net:8443/' })
          .imageOrigins,
      ).toEqual(['https://cdn.example.com', 'https://img.example.net:8443']);
      expect(loadConfig({}).imageOrigins).toEqual([]);
    });

    it.each(['https://cdn.example.com/images', 'ftp://cdn.example.com', 'cdn.example.com'])(
      'refuses %s, naming IMAGE_ORIGINS',
      (value) => {
        expect(refused({ IMAGE_ORIGINS: value })).toMatch(
          /^Invalid configuration: IMAGE_ORIGINS must be origins/,
        );
      },
    );
  });
});
