import { count } from 'drizzle-orm';
import { loadConfig } from '../config.ts';
import { products } from '../db/schema.ts';
import { createLogger } from '../lib/logger.ts';
import { seedDemoCatalogue } from '../modules/products/demo-catalogue.ts';
import { startRuntime } from '../runtime.ts';

/** `npm run db:seed`: the demo catalogue, into a database that has no products yet. */
const config = loadConfig({ ...process.env, SEED_DEMO: 'false' });
const logger = createLogger(config);
const runtime = await startRuntime(config, logger, { jobs: false });
try {
  const [row] = await runtime.ctx.db.select({ total: count() }).from(products);
  if ((row?.total ?? 0) > 0) {
    logger.info({ products: row?.total }, 'the catalogue is not empty; nothing seeded');
  } else {
    logger.info(
      { products: await seedDemoCatalogue({ ctx: runtime.ctx }) },
      'demo catalogue seeded',
    );
  }
} finally {
  await runtime.close();
}
