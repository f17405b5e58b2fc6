import type { FastifyInstance } from 'fastify';
import { solveChallenge } from 'altcha-lib/v1';
import { QueueChallenge, QueueStatus, type QueueSettingsInput } from '@stampede/contract';
import { call, expectStatus } from '../support/http-helpers.ts';
import type { TestUser } from '../support/fixtures.ts';

export const QUEUE_ON: QueueSettingsInput = {
  enabled: true,
  opens_before_seconds: 3600,
  admit_per_minute: 60_000,
  max_active: null,
  inventory_factor: 1,
  pass_ttl_seconds: 600,
  paused: false,
};

export async function setQueue(
  app: FastifyInstance,
  admin: TestUser,
  productId: number,
  settings: Partial<QueueSettingsInput> = {},
) {
  return expectStatus(
    await call(app, {
      method: 'PUT',
      url: `/api/admin/products/${productId}/queue`,
      as: admin,
      payload: { ...QUEUE_ON, ...settings },
    }),
    200,
  ).json();
}

/** A challenge asked for and solved as the widget would, as the `altcha` field's value. */
export async function solvedChallenge(
  app: FastifyInstance,
  user: TestUser,
  productId: number,
): Promise<string> {
  const res = expectStatus(
    await call(app, { method: 'GET', url: `/api/queues/${productId}/challenge`, as: user }),
    200,
  );
  const challenge = QueueChallenge.parse(res.json());
  const solution = await solveChallenge(
    challenge.challenge,
    challenge.salt,
    challenge.algorithm,
    challenge.maxnumber,
  ).promise;
  if (!solution) throw new Error('challenge not solved');
  return Buffer.from(
    JSON.stringify({
      algorithm: challenge.algorithm,
      challenge: challenge.challenge,
      number: solution.number,
      salt: challenge.salt,
      signature: challenge.signature,
    }),
  ).toString('base64');
}

export function joinWith(app: FastifyInstance, user: TestUser, productId: number, altcha: string) {
  return call(app, {
    method: 'POST',
    url: `/api/queues/${productId}/join`,
    as: user,
    payload: { altcha },
  });
}

export async function join(app: FastifyInstance, user: TestUser, productId: number) {
  const res = await joinWith(app, user, productId, await solvedChallenge(app, user, productId));
  if (res.statusCode !== 201 && res.statusCode !== 200) {
    throw new Error(`join answered ${res.statusCode}: ${res.body}`);
  }
  return QueueStatus.parse(res.json());
}

export async function status(
  app: FastifyInstance,
  user: TestUser,
  productId: number,
  ticket?: string | null,
) {
  const res = expectStatus(
    await call(app, {
      method: 'GET',
      url: `/api/queues/${productId}/status`,
      as: user,
      ...(ticket ? { headers: { 'x-queue-ticket': ticket } } : {}),
    }),
    200,
  );
  return QueueStatus.parse(res.json());
}
