import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config.ts';
import { REPO_ROOT, readRepoFile, repoPath } from '../observability/support/repo.ts';
import { HAPROXY_CFG, haproxySections, haproxyTimeout } from './support/haproxy.ts';

/**
 * docker-compose.cluster.yml, checked as far as it can be without a Docker engine (none on this
 * machine): the Compose schema and lint rules (dclint), and the wiring parsed from the file (YAML
 * merge keys resolved as Compose resolves them): every API replica on the same database,
 * cluster, secret and proxy settings; the cluster's six nodes and the job that makes them one;
 * HAProxy the only door in; Prometheus finding every replica. HAProxy and the init job themselves
 * run for real in haproxy.test.ts and redis-cluster-init.test.ts.
 */
interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[] | string;
  entrypoint?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] | string };
  deploy?: { replicas?: string | number };
  networks?: string[] | Record<string, { ipv4_address?: string }>;
  read_only?: boolean;
  cap_drop?: string[];
  cap_add?: string[];
  security_opt?: string[];
  user?: string;
  restart?: string;
}
interface Compose {
  services: Record<string, Service>;
  networks?: Record<string, { ipam?: { config?: { subnet: string }[] } }>;
  volumes?: Record<string, unknown>;
}

const FILE = 'docker-compose.cluster.yml';
const text = readRepoFile(FILE);
const compose = parse(text, { merge: true }) as Compose;
const services = compose.services;
const api = services.api!;
const apiEnv = api.environment!;
const redisNodes = Object.keys(services)
  .filter((name) => /^redis-\d+$/.test(name))
  .sort();

/** Compose's variable interpolation: `${VAR}`, `${VAR:-default}`, `${VAR:?error}`. */
function interpolate(value: string, env: Record<string, string>): string {
  return value.replace(/\$\{(\w+)(?::([-?])([^}]*))?\}/g, (_all, name, kind, arg) => {
    if (env[name] !== undefined && env[name] !== '') return env[name]!;
    if (kind === '-') return arg;
    if (kind === '?') throw new Error(`required variable ${name}: ${arg}`);
    return '';
  });
}

const given = {
  JWT_SECRET: 'x'.repeat(64),
  POSTGRES_PASSWORD: 'p'.repeat(48),
  REDIS_PASSWORD: 'r'.repeat(48),
  ADMIN_EMAIL: 'ops@example.com',
  ADMIN_PASSWORD: 'a long password',
};

const commandOf = (service: Service) =>
  (Array.isArray(service.command) ? service.command : [service.command ?? '']).map((arg) =>
    interpolate(String(arg), given),
  );
const flag = (command: string[], name: string) => command[command.indexOf(name) + 1];

describe('docker-compose.cluster.yml', () => {
  it('passes dclint (the Compose schema and its lint rules)', () => {
    const result = spawnSync(repoPath('node_modules/.bin/dclint'), [FILE], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    });
    expect(result.error).toBeUndefined();
    expect(result.status, `${result.stdout}${result.stderr}`).toBe(0);
    expect(`${result.stdout}${result.stderr}`).not.toMatch(/warning|error/);
  });

  it('runs PostgreSQL, six Redis nodes and their init job, the API replicas, HAProxy and Prometheus', () => {
    expect(Object.keys(services).sort()).toEqual(
      [
        'api',
        'haproxy',
        'postgres',
        'prometheus',
        'redis-cluster-init',
        ...[1, 2, 3, 4, 5, 6].map((n) => `redis-${n}`),
      ].sort(),
    );
    // Several replicas by default, any number with API_REPLICAS or --scale.
    expect(Number(interpolate(String(api.deploy!.replicas), {}))).toBeGreaterThanOrEqual(2);
    expect(Number(interpolate(String(api.deploy!.replicas), { API_REPLICAS: '5' }))).toBe(5);
  });

  it('publishes HAProxy alone to the network (Prometheus on this machine only); no replica, metrics port or data store', () => {
    const published = Object.entries(services).filter(([, s]) => s.ports?.length);
    expect(published.map(([name]) => name).sort()).toEqual(['haproxy', 'prometheus']);
    expect(services.haproxy!.ports).toEqual(['0.0.0.0:8000:8000']);
    for (const port of services.prometheus!.ports!) expect(port).toMatch(/^127\.0\.0\.1:/);
    expect(api.ports).toBeUndefined();
    // A fixed container port for a replicated service would collide; the replicas have none.
    expect(text).not.toMatch(/container_name/);
    expect(interpolate(apiEnv.API_DOCS!, {})).toBe('false');
  });

  it.each(Object.keys(services))(
    '%s runs read-only, without capabilities, unable to gain privileges',
    (name) => {
      const service = services[name]!;
      expect(service.read_only).toBe(true);
      expect(service.cap_drop).toEqual(['ALL']);
      expect(service.security_opt).toContain('no-new-privileges:true');
      if (name === 'postgres') {
        expect([...(service.cap_add ?? [])].sort()).toEqual(
          ['CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'SETGID', 'SETUID'].sort(),
        );
      } else {
        expect(service.cap_add).toBeUndefined();
      }
      if (service.image) expect(service.image, 'a pinned tag').toMatch(/:[\w.-]+$/);
      expect(service.image ?? '').not.toMatch(/:latest$/);
    },
  );

  it('ships no secret: compose refuses to start without each, and every use takes it from the environment', () => {
    for (const name of Object.keys(given)) {
      expect(text, `${name} has no default`).not.toMatch(new RegExp(`\\$\\{${name}:-`));
      const uses = [...text.matchAll(new RegExp(`\\$\\{${name}(:.)?`, 'g'))];
      expect(uses.length, name).toBeGreaterThan(0);
      for (const use of uses) expect(use[1], `${name} is required where used`).toBe(':?');
    }
    for (const name of ['JWT_SECRET', 'ADMIN_EMAIL', 'ADMIN_PASSWORD', 'DATABASE_URL']) {
      expect(() => interpolate(apiEnv[name]!, {}), name).toThrow();
    }
  });

  describe('every API replica', () => {
    const env = Object.fromEntries(
      Object.entries(apiEnv).map(([key, value]) => [key, interpolate(String(value), given)]),
    );
    const config = loadConfig(env);

    it('has an environment the API’s own configuration accepts: the same database, secret and cluster', () => {
      expect(new URL(config.databaseUrl!).hostname).toBe('postgres');
      expect(new URL(config.databaseUrl!).password).toBe(given.POSTGRES_PASSWORD);
      expect(config.jwtSecret).toBe(given.JWT_SECRET);
      expect(apiEnv.JWT_SECRET).toMatch(/^\$\{JWT_SECRET:\?/);
      expect(config.redisUrl).toBeUndefined();
      expect(apiEnv.REDIS_URL).toBeUndefined();
    });

    it('names all six Redis nodes in REDIS_CLUSTER_NODES, at their port, with their password', () => {
      expect(config.redis).toMatchObject({ kind: 'cluster', password: given.REDIS_PASSWORD });
      const nodes = config.redis?.kind === 'cluster' ? config.redis.nodes : [];
      expect(nodes.map((n) => n.host).sort()).toEqual(redisNodes);
      expect(redisNodes).toHaveLength(6);
      for (const node of nodes) {
        expect(Number(flag(commandOf(services[node.host]!), '--port'))).toBe(node.port);
      }
      const password = flag(commandOf(services['redis-1']!), '--requirepass');
      expect(password).toBe(given.REDIS_PASSWORD);
    });

    it('trusts exactly one proxy hop (HAProxy) for the client address', () => {
      expect(env.TRUST_PROXY).toBe('1');
      const trust = config.trustProxy as (address: string, hop: number) => boolean;
      expect(typeof trust).toBe('function');
      expect(trust('10.0.0.5', 0)).toBe(true);
      expect(trust('198.51.100.23', 1)).toBe(false);
    });

    it('serves metrics on a port of its own, on the compose network, not published', () => {
      expect(config.metricsListener).toEqual({ port: 9464, host: '0.0.0.0' });
      expect(config.port).toBe(8000);
    });

    it('starts after PostgreSQL is healthy and the cluster is made, and is healthy when /readyz is 200', () => {
      expect(api.depends_on).toEqual({
        postgres: { condition: 'service_healthy' },
        'redis-cluster-init': { condition: 'service_completed_successfully' },
      });
      expect(JSON.stringify(api.healthcheck!.test)).toContain(`127.0.0.1:${config.port}/readyz`);
      expect(api.build).toEqual({ context: '.', dockerfile: 'Dockerfile' });
    });

    it('leaves PostgreSQL room for every replica’s pool', () => {
      const maxConnections = Number(
        /max_connections=(\d+)/.exec(commandOf(services.postgres!).join(' '))![1],
      );
      const replicas = Number(interpolate(String(api.deploy!.replicas), {}));
      expect(maxConnections).toBeGreaterThanOrEqual(replicas * config.databasePoolSize * 2);
    });
  });

  describe('the Redis Cluster', () => {
    it('six nodes in cluster mode with a password (masterauth for the replicas), noeviction, nodes.conf kept in a volume', () => {
      for (const name of redisNodes) {
        const service = services[name]!;
        const command = commandOf(service);
        expect(flag(command, '--cluster-enabled'), name).toBe('yes');
        expect(flag(command, '--requirepass'), name).toBe(given.REDIS_PASSWORD);
        expect(flag(command, '--masterauth'), name).toBe(given.REDIS_PASSWORD);
        expect(flag(command, '--maxmemory-policy'), name).toBe('noeviction');
        const dir = flag(command, '--dir');
        expect(service.volumes, name).toEqual([`${name}-data:${dir}`]);
        expect(Object.keys(compose.volumes ?? {})).toContain(`${name}-data`);
        expect(service.healthcheck, name).toBeDefined();
        expect(interpolate(service.environment!.REDISCLI_AUTH!, given)).toBe(given.REDIS_PASSWORD);
      }
    });

    it('the init job runs deploy/redis-cluster/init.sh once every node is healthy, over all six nodes at their fixed addresses', () => {
      const init = services['redis-cluster-init']!;
      expect(init.depends_on).toEqual(
        Object.fromEntries(redisNodes.map((name) => [name, { condition: 'service_healthy' }])),
      );
      const mount = init.volumes!.find((v) => v.startsWith('./deploy/redis-cluster/init.sh:'));
      expect(mount).toBeDefined();
      const target = mount!.split(':')[1]!;
      expect(init.entrypoint).toEqual(['sh', target]);
      expect(existsSync(repoPath('deploy/redis-cluster/init.sh'))).toBe(true);
      expect(init.restart).toBe('no');
      expect(interpolate(init.environment!.REDISCLI_AUTH!, given)).toBe(given.REDIS_PASSWORD);
      expect(init.environment!.REDIS_CLUSTER_REPLICAS).toBe('1');

      const subnet = compose.networks!.cluster!.ipam!.config![0]!.subnet;
      const prefix = subnet.replace(/\.0\/24$/, '.');
      const addresses = redisNodes.map((name) => {
        const networks = services[name]!.networks as Record<string, { ipv4_address: string }>;
        const address = networks.cluster!.ipv4_address;
        expect(address.startsWith(prefix), `${name} in ${subnet}`).toBe(true);
        return `${address}:${flag(commandOf(services[name]!), '--port')}`;
      });
      expect(new Set(addresses).size).toBe(6);
      expect(init.environment!.REDIS_CLUSTER_INIT_NODES!.split(' ').sort()).toEqual(
        addresses.sort(),
      );
    });
  });

  describe('HAProxy', () => {
    const haproxy = services.haproxy!;
    const sections = haproxySections();
    const backend = sections.get('backend api')!;
    const replicaEnv = Object.fromEntries(
      Object.entries(apiEnv).map(([key, value]) => [key, interpolate(String(value), given)]),
    );
    const config = loadConfig(replicaEnv);

    it('reads deploy/haproxy/haproxy.cfg, starts once the replicas are healthy, and has a healthcheck', () => {
      expect(haproxy.volumes).toContain('./deploy/haproxy:/usr/local/etc/haproxy:ro');
      expect(existsSync(repoPath(HAPROXY_CFG))).toBe(true);
      expect(haproxy.depends_on).toEqual({ api: { condition: 'service_healthy' } });
      const monitor = sections.get('frontend monitoring')!;
      expect(monitor).toContain('monitor-uri /healthz');
      const monitorPort = /:(\d+)\}?"$/.exec(monitor.find((l) => l.startsWith('bind '))!)![1];
      expect(JSON.stringify(haproxy.healthcheck!.test)).toContain(
        `127.0.0.1:${monitorPort}/healthz`,
      );
    });

    it('listens on the published port and sends to every replica of `api` at its port, checked on /readyz', () => {
      const bind = sections.get('frontend shop')!.find((l) => l.startsWith('bind '))!;
      const port = Number(/:(\d+)\}?"$/.exec(bind)![1]);
      expect(haproxy.ports!.map((p) => Number(p.split(':').at(-1)))).toEqual([port]);
      const template = backend.find((l) => l.startsWith('server-template '))!.split(/\s+/);
      expect(template[3]).toBe(`api:${config.port}`);
      expect(template).toContain('resolvers');
      expect(backend).toContain('option httpchk GET /readyz');
      expect(backend).toContain('http-check expect status 200');
      expect(backend.find((l) => l.startsWith('default-server'))).toMatch(/\bcheck\b/);
      expect(backend.find((l) => l.startsWith('balance '))).toMatch(
        /^balance (leastconn|roundrobin)$/,
      );
    });

    it('passes the client address on (X-Forwarded-For) for the replicas that trust one hop', () => {
      expect(sections.get('defaults')).toContain('option forwardfor');
      expect(replicaEnv.TRUST_PROXY).toBe('1');
    });

    it('has timeouts consistent with the API’s', () => {
      // Headers within the API's own deadline for them.
      expect(haproxyTimeout('http-request')).toBeLessThanOrEqual(config.timeouts.headersMs);
      // The replica never closes a kept-alive connection HAProxy may still send on.
      expect(config.timeouts.keepAliveMs).toBeGreaterThan(haproxyTimeout('http-keep-alive'));
      expect(config.timeouts.keepAliveMs).toBeGreaterThan(haproxyTimeout('server'));
      // An order's longest wait, and the live stream's one-second ticks, are far inside the
      // inactivity timeouts.
      for (const side of ['server', 'client']) {
        expect(haproxyTimeout(side)).toBeGreaterThanOrEqual(10 * 1000);
        expect(haproxyTimeout(side)).toBeGreaterThan(config.timeouts.requestMs);
        expect(haproxyTimeout(side)).toBeGreaterThan(config.stockHoldMaxAgeMs / 3);
      }
      expect(haproxyTimeout('check')).toBeLessThan(
        Number(/inter (\d+)s/.exec(backend.find((l) => l.startsWith('default-server'))!)![1]) *
          1000 *
          3,
      );
    });

    it('passes haproxy -c (the configuration as the container loads it)', () => {
      const result = spawnSync('haproxy', ['-c', '-f', repoPath(HAPROXY_CFG)], {
        encoding: 'utf8',
      });
      expect(result.error, 'apt-get install haproxy').toBeUndefined();
      expect(result.status, `${result.stdout}${result.stderr}`).toBe(0);
    });
  });

  describe('Prometheus', () => {
    const prometheus = services.prometheus!;
    const source = 'observability/prometheus';
    const config = parse(readRepoFile(`${source}/prometheus-cluster.yml`)) as {
      rule_files: string[];
      scrape_configs: {
        job_name: string;
        metrics_path?: string;
        dns_sd_configs?: { names: string[]; type: string; port: number }[];
        static_configs?: { targets: string[] }[];
      }[];
    };

    it('reads observability/prometheus/prometheus-cluster.yml through its mount', () => {
      expect(prometheus.volumes).toContain(`./${source}:/etc/prometheus:ro`);
      expect(prometheus.command).toContain('--config.file=/etc/prometheus/prometheus-cluster.yml');
      for (const file of config.rule_files) {
        expect(existsSync(repoPath(`${source}/${file}`)), file).toBe(true);
      }
    });

    it('finds every replica of `api` in DNS and scrapes each at its metrics port, as the job the rules name', () => {
      const job = config.scrape_configs.find((c) => c.job_name === 'stampede-api')!;
      expect(job.metrics_path ?? '/metrics').toBe('/metrics');
      expect(job.static_configs).toBeUndefined();
      expect(job.dns_sd_configs).toEqual([
        expect.objectContaining({ names: ['api'], type: 'A', port: Number(apiEnv.METRICS_PORT) }),
      ]);
      const rules = readRepoFile(`${source}/alert_rules.yml`);
      for (const [, name] of rules.matchAll(/job="([^"]+)"/g)) {
        expect(config.scrape_configs.map((c) => c.job_name)).toContain(name);
      }
    });

    it('scrapes HAProxy’s exporter on its monitoring port', () => {
      const job = config.scrape_configs.find((c) => c.job_name === 'haproxy')!;
      const monitor = haproxySections().get('frontend monitoring')!;
      expect(monitor).toContain(
        'http-request use-service prometheus-exporter if { path /metrics }',
      );
      const port = /:(\d+)\}?"$/.exec(monitor.find((l) => l.startsWith('bind '))!)![1];
      expect(job.static_configs!.flatMap((c) => c.targets)).toEqual([`haproxy:${port}`]);
    });

    it('passes promtool check config', () => {
      const result = spawnSync('promtool', ['check', 'config', 'prometheus-cluster.yml'], {
        cwd: repoPath(source),
        encoding: 'utf8',
      });
      expect(result.error, 'apt-get install prometheus (it ships promtool)').toBeUndefined();
      expect(result.status, `${result.stdout}${result.stderr}`).toBe(0);
    });
  });
});
