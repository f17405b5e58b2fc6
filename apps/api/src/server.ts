import cluster from 'node:cluster';
import { buildApp, buildMetricsApp } from './app.ts';
import { ConfigError, loadConfig, type Config } from './config.ts';
import { createLogger } from './lib/logger.ts';
import { startRuntime } from './runtime.ts';

/**
 * The process entry: read the configuration (a bad value stops here, with one line), start the
 * runtime, listen, and on SIGTERM/SIGINT stop taking connections, let in-flight requests
 * finish, then close the pools.
 */
function readConfig(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}

async function serve(config: Config): Promise<void> {
  const logger = createLogger(config);
  const runtime = await startRuntime(config, logger);
  const app = await buildApp({ ctx: runtime.ctx });
  const metricsApp = config.metricsListener
    ? await buildMetricsApp({ ctx: runtime.ctx })
    : undefined;

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing requests in flight');
    const force = setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, 15_000);
    force.unref();
    try {
      await app.close();
      await metricsApp?.close();
      await runtime.close();
      logger.info('stopped');
      process.exit(0);
    } catch (error) {
      logger.error({ err: error }, 'shutdown failed');
      process.exit(1);
    }
  };
  // `on`, not `once`: a second signal (a terminal's Ctrl-C reaches the launcher too, which
  // forwards it) must not kill the process halfway through its shutdown.
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));

  await app.listen({ port: config.port, host: config.host });
  if (metricsApp && config.metricsListener) await metricsApp.listen({ ...config.metricsListener });
  logger.info(
    {
      url: `http://localhost:${config.port}`,
      database: config.databaseUrl ? 'external' : 'embedded',
      gate: runtime.ctx.stock.tracksStock ? runtime.ctx.stock.kind : 'off',
      ...(config.metricsListener
        ? {
            metrics: `http://${config.metricsListener.host}:${config.metricsListener.port}/metrics`,
          }
        : {}),
    },
    'Stampede is ready',
  );
}

function fork(config: Config): void {
  const logger = createLogger(config);
  for (let i = 0; i < config.workers; i += 1) cluster.fork();
  let stopping = false;
  cluster.on('exit', (worker, code) => {
    if (stopping) return;
    logger.error({ pid: worker.process.pid, code }, 'worker died; starting another');
    cluster.fork();
  });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      stopping = true;
      for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill(signal);
    });
  }
}

const config = readConfig();
if (config.workers > 1 && cluster.isPrimary) {
  fork(config);
} else {
  serve(config).catch((error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`Stampede could not start: ${message}\n`);
    process.exit(1);
  });
}
