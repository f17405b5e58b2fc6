import { loadConfig } from '../config.ts';
import { createDatabase } from '../db/client.ts';
import { startEmbeddedPostgres } from '../db/embedded.ts';
import { migrateDatabase } from '../db/migrate.ts';
import { createLogger } from '../lib/logger.ts';

/** `npm run db:migrate`: apply pending migrations to DATABASE_URL (or the embedded database). */
const config = loadConfig();
const logger = createLogger(config);
const embedded = config.databaseUrl
  ? undefined
  : await startEmbeddedPostgres({ dir: config.dataDir, logger });
const database = createDatabase({
  url: config.databaseUrl ?? embedded!.url,
  poolSize: 2,
  logger,
});
try {
  await migrateDatabase(database);
  logger.info('migrations applied');
} finally {
  await database.close();
  await embedded?.stop();
}
