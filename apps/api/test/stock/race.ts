import type { FastifyInstance } from 'fastify';

export interface Answer {
  readonly status: number;
  readonly code?: string;
  readonly orderId?: number;
  readonly body: unknown;
}

/**
 * A real HTTP server on a free port, for races run over real sockets (fetch), not in-process
 * injection.
 */
export async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('no address');
  return `http://127.0.0.1:${address.port}`;
}

export async function postOrder(
  baseUrl: string,
  token: string,
  items: { product_id: number; quantity: number }[],
  idempotencyKey?: string,
): Promise<Answer> {
  const response = await fetch(`${baseUrl}/api/orders`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}),
    },
    body: JSON.stringify({ items }),
  });
  const body = (await response.json()) as { id?: number; error?: { code: string } };
  return {
    status: response.status,
    ...(body.error ? { code: body.error.code } : {}),
    ...(response.status === 201 ? { orderId: body.id } : {}),
    body,
  };
}

export function tally(answers: readonly Answer[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const answer of answers) {
    const key = answer.status === 201 ? 'created' : (answer.code ?? String(answer.status));
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

export function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i -= 1) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}
