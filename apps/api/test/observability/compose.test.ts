import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { REPO_ROOT, readRepoFile, readRepoYaml, repoPath } from './support/repo.ts';

/**
 * docker-compose.yml and the Dockerfile, checked as far as they can be without a Docker engine:
 * the Compose schema (dclint), the services and how they reach each other, healthchecks and
 * start order, secrets from the environment, the mounts Prometheus and Grafana read their
 * configuration from, and the image's stages and sources.
 */

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] | string };
}
interface Compose {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

const compose = readRepoYaml<Compose>('docker-compose.yml');
const services = compose.services;

/** Compose's variable interpolation: `${VAR}`, `${VAR:-default}`, `${VAR:?error}`. */
function interpolate(value: string, env: Record<string, string>): string {
  return value.replace(/\$\{(\w+)(?::([-?])([^}]*))?\}/g, (_all, name, kind, arg) => {
    const set = env[name] !== undefined && env[name] !== '';
    if (set) return env[name]!;
    if (kind === '-') return arg;
    if (kind === '?') throw new Error(`required variable ${name}: ${arg}`);
    return '';
  });
}

/** `host:container` (optionally `ip:host:container`) to its parts. */
function published(port: string): { ip?: string; host: number; container: number } {
  const parts = port.split(':');
  const container = Number(parts.pop());
  const host = Number(parts.pop());
  return { ...(parts.length ? { ip: parts[0] } : {}), host, container };
}

/** The bind mount of `service` whose target is `target`, as a repository path. */
function bindSource(service: Service, target: string): string {
  const volume = (service.volumes ?? []).find((v) => v.split(':')[1] === target);
  expect(volume, `a mount at ${target}`).toBeDefined();
  const source = volume!.split(':')[0]!;
  expect(source.startsWith('./'), `${source} is a path in the repository`).toBe(true);
  return source.slice(2);
}

describe('docker-compose.yml', () => {
  it('passes dclint (the Compose schema and its lint rules)', () => {
    const result = spawnSync(repoPath('node_modules/.bin/dclint'), ['docker-compose.yml'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    });
    expect(result.error).toBeUndefined();
    expect(result.status, `${result.stdout}${result.stderr}`).toBe(0);
  });

  it('runs PostgreSQL, Redis, the API, Prometheus (9090) and Grafana (3001)', () => {
    expect(Object.keys(services).sort()).toEqual([
      'api',
      'grafana',
      'postgres',
      'prometheus',
      'redis',
    ]);
    const ports = (name: string) => (services[name]!.ports ?? []).map(published);
    expect(ports('api')).toContainEqual(expect.objectContaining({ host: 8000, container: 8000 }));
    expect(ports('prometheus')).toContainEqual(
      expect.objectContaining({ host: 9090, container: 9090 }),
    );
    expect(ports('grafana')).toContainEqual(
      expect.objectContaining({ host: 3001, container: 3000 }),
    );
    // The data stores are not published outside the compose network.
    expect(services.postgres!.ports).toBeUndefined();
    expect(services.redis!.ports).toBeUndefined();
  });

  it('gives every service a healthcheck and starts each after what it needs', () => {
    for (const [name, service] of Object.entries(services)) {
      expect(service.healthcheck?.test, `${name} healthcheck`).toBeDefined();
      for (const [dependency, { condition }] of Object.entries(service.depends_on ?? {})) {
        expect(Object.keys(services), `${name} depends on ${dependency}`).toContain(dependency);
        if (condition === 'service_healthy') {
          expect(services[dependency]!.healthcheck, dependency).toBeDefined();
        }
      }
    }
    expect(services.api!.depends_on).toEqual({
      postgres: { condition: 'service_healthy' },
      redis: { condition: 'service_healthy' },
    });
    expect(services.grafana!.depends_on).toEqual({
      prometheus: { condition: 'service_healthy' },
    });
    expect(Object.keys(services.prometheus!.depends_on ?? {})).toEqual(['api']);
  });

  it('declares every named volume and mounts only paths that exist', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const volume of service.volumes ?? []) {
        const source = volume.split(':')[0]!;
        if (source.startsWith('./')) {
          expect(existsSync(repoPath(source.slice(2))), `${name}: ${source}`).toBe(true);
        } else {
          expect(Object.keys(compose.volumes ?? {}), `${name}: ${source}`).toContain(source);
        }
      }
    }
  });

  describe('the API service', () => {
    const environment = services.api!.environment!;
    const given = {
      JWT_SECRET: 'x'.repeat(64),
      POSTGRES_PASSWORD: 'p'.repeat(48),
      REDIS_PASSWORD: 'r'.repeat(48),
      ADMIN_EMAIL: 'ops@example.com',
      ADMIN_PASSWORD: 'a long password',
      GRAFANA_ADMIN_PASSWORD: 'another one',
    };

    it('refuses to start without its secrets, and has none written in the file', () => {
      for (const name of ['JWT_SECRET', 'ADMIN_EMAIL', 'ADMIN_PASSWORD']) {
        expect(environment[name]).toMatch(new RegExp(`^\\$\\{${name}:\\?`));
        expect(() => interpolate(environment[name]!, {})).toThrow(name);
      }
    });

    it('has an environment that the app’s own configuration accepts', () => {
      const env = Object.fromEntries(
        Object.entries(environment).map(([key, value]) => [key, interpolate(value, given)]),
      );
      const config = loadConfig(env);
      expect(config.port).toBe(8000);
      expect(new URL(config.databaseUrl!).hostname).toBe('postgres');
      expect(new URL(config.redisUrl!).hostname).toBe('redis');
      expect(config.admin?.email).toBe('ops@example.com');
      expect(config.jwtSecret).toBe(given.JWT_SECRET);
      const container = (services.api!.ports ?? []).map(published).map((p) => p.container);
      expect(container).toContain(config.port);
    });

    it('is built from the Dockerfile at the repository root', () => {
      expect(services.api!.build).toEqual({ context: '.', dockerfile: 'Dockerfile' });
      expect(existsSync(repoPath('Dockerfile'))).toBe(true);
    });
  });

  it('Prometheus reads observability/prometheus and scrapes the api service at its metrics port', () => {
    const prometheus = services.prometheus!;
    const source = bindSource(prometheus, '/etc/prometheus');
    expect(source).toBe('observability/prometheus');
    expect(prometheus.command).toContain('--config.file=/etc/prometheus/prometheus.yml');
    const config = readRepoYaml<{
      rule_files: string[];
      scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
    }>(`${source}/prometheus.yml`);
    for (const file of config.rule_files)
      expect(existsSync(repoPath(`${source}/${file}`))).toBe(true);
    const targets = config.scrape_configs
      .find((job) => job.job_name === 'stampede-api')!
      .static_configs.flatMap((c) => c.targets);
    // /metrics is served on its own port (METRICS_PORT), not on the shop's.
    const metricsPort = Number(services.api!.environment!.METRICS_PORT);
    expect(metricsPort).not.toBe(Number(services.api!.environment!.PORT));
    expect(targets).toEqual([`api:${metricsPort}`]);
    const published = (services.api!.ports ?? []).map((port) => Number(port.split(':').pop()));
    expect(published).not.toContain(metricsPort);
    const [host] = targets[0]!.split(':');
    expect(Object.keys(services)).toContain(host);
  });

  it('Grafana is provisioned from observability/grafana/provisioning, password from the environment', () => {
    const grafana = services.grafana!;
    const source = bindSource(grafana, '/etc/grafana/provisioning');
    expect(source).toBe('observability/grafana/provisioning');
    expect(grafana.environment!.GF_SECURITY_ADMIN_PASSWORD).toMatch(
      /^\$\{GRAFANA_ADMIN_PASSWORD:\?/,
    );

    // The data source names the prometheus service at its container port.
    const datasource = readRepoYaml<{ datasources: { url: string }[] }>(
      `${source}/datasources/prometheus.yml`,
    ).datasources[0]!;
    const url = new URL(datasource.url);
    expect(Object.keys(services)).toContain(url.hostname);
    const prometheusPorts = (services[url.hostname]!.ports ?? []).map(published);
    expect(prometheusPorts.map((p) => p.container)).toContain(Number(url.port));

    // Paths inside the container resolve to files in the repository through the mount.
    const inRepo = (containerPath: string) =>
      repoPath(containerPath.replace('/etc/grafana/provisioning', source));
    const provider = readRepoYaml<{ providers: { options: { path: string } }[] }>(
      `${source}/dashboards/stampede.yml`,
    ).providers[0]!;
    const dashboards = inRepo(provider.options.path);
    expect(statSync(dashboards).isDirectory()).toBe(true);
    expect(readdirSync(dashboards).filter((f) => f.endsWith('.json')).length).toBe(2);
    const home = grafana.environment!.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH!;
    expect(existsSync(inRepo(home)), home).toBe(true);
  });
});

describe('Dockerfile', () => {
  const lines = readRepoFile('Dockerfile')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
  const stages: { name: string | undefined; lines: string[] }[] = [];
  for (const line of lines) {
    const from = /^FROM\s+\S+(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from) stages.push({ name: from[1], lines: [] });
    else stages.at(-1)?.lines.push(line);
  }
  const final = stages.at(-1)!;
  const ignored = readRepoFile('.dockerignore')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map(
      (pattern) =>
        new RegExp(
          `^${pattern
            .replace(/[.+^$()|[\]{}]/g, '\\$&')
            .replace(/\*\*\//g, '\0')
            .replace(/\*/g, '[^/]*')
            .replace(/\0/g, '(?:.*/)?')}(?:/.*)?$`,
        ),
    );

  it('is multi-stage: the web app is built in one stage and copied into the runtime', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const web = stages.find((stage) =>
      stage.lines.some((line) => /^RUN .*npm run build -w @stampede\/web/.test(line)),
    );
    expect(web?.name).toBeDefined();
    expect(final.lines).toContain(`COPY --from=${web!.name} /app/apps/web/dist apps/web/dist`);
  });

  it('runs the API bundle, as a non-root user, on the port compose publishes', () => {
    expect(final.lines.at(-1)).toBe(
      'CMD ["node", "--enable-source-maps", "apps/api/dist/server.js"]',
    );
    expect(final.lines).toContain('USER node');
    expect(final.lines).toContain(`EXPOSE ${services.api!.environment!.PORT}`);
    expect(final.lines.some((l) => /^RUN npm ci --omit=dev/.test(l))).toBe(true);
    // The bundle comes from the build stage; the files it reads at run time come beside it.
    expect(final.lines).toContain('COPY --from=build /app/apps/api/dist apps/api/dist');
    for (const dir of [
      'apps/api/src/modules/stock/gate/lua',
      'apps/api/src/db/migrations',
      'apps/api/assets',
    ]) {
      expect(final.lines).toContain(`COPY ${dir} ${dir}`);
    }
  });

  it('copies only sources that exist and that .dockerignore lets into the build context', () => {
    const names = stages.map((stage) => stage.name);
    const copies = stages.flatMap((stage) => stage.lines.filter((line) => /^COPY /.test(line)));
    expect(copies.length).toBeGreaterThan(5);
    for (const copy of copies) {
      const args = copy.split(/\s+/).slice(1);
      const from = args.find((arg) => arg.startsWith('--from='));
      const paths = args.filter((arg) => !arg.startsWith('--'));
      if (from) {
        expect(names, copy).toContain(from.slice('--from='.length));
        continue;
      }
      for (const source of paths.slice(0, -1)) {
        expect(existsSync(repoPath(source)), `${copy}: ${source} exists`).toBe(true);
        expect(
          ignored.some((pattern) => pattern.test(source)),
          `${copy}: ${source} is not in .dockerignore`,
        ).toBe(false);
      }
    }
    // Nothing installed or secret from the machine that builds it.
    for (const path of ['node_modules', 'apps/api/node_modules', '.env', '.git']) {
      expect(
        ignored.some((pattern) => pattern.test(path)),
        path,
      ).toBe(true);
    }
  });
});
