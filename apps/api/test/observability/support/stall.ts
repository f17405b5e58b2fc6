import { request } from 'node:http';
import pg from 'pg';

/**
 * A stall as it happens in production: another session holds a product's stock row (an admin
 * script, a migration, a forgotten transaction), so every order for it waits on the lock.
 */
export async function holdStockRow(
  databaseUrl: string,
  productId: number,
): Promise<{ release(): Promise<void> }> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  await client.query('BEGIN');
  await client.query('SELECT 1 FROM stock WHERE product_id = $1 FOR UPDATE', [productId]);
  return {
    async release() {
      await client.query('ROLLBACK');
      await client.end();
    },
  };
}

/**
 * A buyer's order over real HTTP whose client gives up after `timeoutMs`, as a browser or a
 * load balancer does: the connection is closed before any answer. Resolves with the status when
 * an answer came first, or `'gave up'`.
 */
export function orderGivingUp(options: {
  baseUrl: string;
  token: string;
  productId: number;
  timeoutMs: number;
}): Promise<number | 'gave up'> {
  const body = JSON.stringify({ items: [{ product_id: options.productId, quantity: 1 }] });
  return new Promise((resolve, reject) => {
    const req = request(
      `${options.baseUrl}/api/orders`,
      {
        method: 'POST',
        headers: {
          authorization: `Bearer ${options.token}`,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.setTimeout(options.timeoutMs, () => {
      req.destroy();
      resolve('gave up');
    });
    req.on('error', (error) => {
      if (req.destroyed) resolve('gave up');
      else reject(error);
    });
    req.end(body);
  });
}
