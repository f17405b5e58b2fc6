import Fastify from 'fastify';

/**
 * The `baseline` mode: a bare Fastify server answering constant JSON on every route, so the
 * same client and the same requests measure this machine's HTTP ceiling. An order attempt gets
 * the shape of a sold-out refusal (409), a read gets a small 200.
 */
const app = Fastify({ logger: false });
const soldOut = {
  error: {
    code: 'insufficient_stock',
    message: 'Not enough stock.',
    details: { product_id: 1, requested: 1, available: 0 },
  },
};
const stock = { product_id: 1, available: 0, server_now: '2026-01-01T00:00:00.000Z' };

app.post('/api/orders', async (_request, reply) => reply.code(409).send(soldOut));
app.get('/readyz', async () => ({ status: 'ok' }));
app.get('/*', async () => stock);

const port = Number(process.env.PORT ?? 8000);
await app.listen({ port, host: process.env.HOST ?? '127.0.0.1' });
process.stdout.write(`${JSON.stringify({ msg: 'baseline ready', port })}\n`);
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void app.close().then(() => process.exit(0));
  });
}
