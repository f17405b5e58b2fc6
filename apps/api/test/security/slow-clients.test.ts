import { connect } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestRuntime, type TestRuntime } from '../support/runtime.ts';

/**
 * Slow clients against a real listening server: a small client that writes a request a byte at
 * a time (or not at all) and watches when the server hangs up. Every client gives up by itself
 * after `giveUpMs`, so a server that never hangs up fails the test instead of hanging it.
 */
interface Trickle {
  /** Written at once when connected. */
  readonly head: string;
  /** Then written one byte every `everyMs` (repeated as needed). */
  readonly drip?: string;
  readonly everyMs?: number;
  /** The client hangs up by itself after this. */
  readonly giveUpMs: number;
}

function trickle(
  port: number,
  plan: Trickle,
): Promise<{ closedAfterMs: number | null; answer: string }> {
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    let timer: NodeJS.Timeout | undefined;
    let settled = false;
    const finish = (closedAfterMs: number | null) => {
      if (settled) return;
      settled = true;
      clearInterval(timer);
      clearTimeout(giveUp);
      socket.destroy();
      resolve({ closedAfterMs, answer });
    };
    const giveUp = setTimeout(() => finish(null), plan.giveUpMs);
    socket.on('connect', () => {
      socket.write(plan.head);
      if (plan.drip) {
        let index = 0;
        timer = setInterval(() => {
          if (!socket.writable) return;
          socket.write(plan.drip![index % plan.drip!.length]!);
          index += 1;
        }, plan.everyMs ?? 200);
      }
    });
    socket.on('data', (chunk) => (answer += chunk.toString()));
    socket.on('error', () => undefined);
    socket.on('close', () => finish(performance.now() - started));
  });
}

const TIMEOUTS = {
  REQUEST_TIMEOUT_MS: '1500',
  HEADERS_TIMEOUT_MS: '1000',
  KEEP_ALIVE_TIMEOUT_MS: '500',
};
/** The server checks its deadlines twice a second; give it that and scheduling on a busy box. */
const SLACK_MS = 1500;
const NODE_KEEP_ALIVE_BUFFER_MS = 1000;

describe('slow clients against a listening server', () => {
  let rt: TestRuntime;
  let app: FastifyInstance;
  let port: number;
  beforeAll(async () => {
    rt = await createTestRuntime({ env: TIMEOUTS });
    app = await rt.app();
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.address() as { port: number }).port;
  });
  afterAll(() => rt.close());

  it('a body trickled a byte at a time is cut off at REQUEST_TIMEOUT_MS with 408', async () => {
    const { closedAfterMs, answer } = await trickle(port, {
      head:
        'POST /api/auth/login HTTP/1.1\r\nHost: shop\r\nContent-Type: application/json\r\n' +
        'Content-Length: 1000\r\n\r\n{"email":"',
      drip: 'a',
      everyMs: 200,
      giveUpMs: 8000,
    });
    expect(closedAfterMs, 'the server never hung up').not.toBeNull();
    expect(closedAfterMs!).toBeLessThan(1500 + SLACK_MS);
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
  });

  it('headers trickled a line at a time are cut off at HEADERS_TIMEOUT_MS', async () => {
    const { closedAfterMs } = await trickle(port, {
      head: 'GET /api/products HTTP/1.1\r\nHost: shop\r\n',
      drip: 'X-Slow: y\r\n',
      everyMs: 100,
      giveUpMs: 8000,
    });
    expect(closedAfterMs, 'the server never hung up').not.toBeNull();
    expect(closedAfterMs!).toBeLessThan(1000 + SLACK_MS);
  });

  it('a connection that opens and says nothing is closed too', async () => {
    const { closedAfterMs } = await trickle(port, { head: '', giveUpMs: 8000 });
    expect(closedAfterMs, 'the server never hung up').not.toBeNull();
    expect(closedAfterMs!).toBeLessThan(1500 + SLACK_MS);
  });

  it('an idle kept-alive connection is closed after KEEP_ALIVE_TIMEOUT_MS', async () => {
    const { closedAfterMs, answer } = await trickle(port, {
      head: 'GET /healthz HTTP/1.1\r\nHost: shop\r\nConnection: keep-alive\r\n\r\n',
      giveUpMs: 8000,
    });
    expect(answer).toMatch(/^HTTP\/1\.1 200/);
    expect(answer).toMatch(/keep-alive: timeout=0/i);
    expect(closedAfterMs, 'the server never hung up').not.toBeNull();
    // Node keeps the socket a fixed second beyond the timeout it advertises, so that a client
    // reusing it at the last moment is not reset.
    expect(closedAfterMs!).toBeLessThan(500 + NODE_KEEP_ALIVE_BUFFER_MS + SLACK_MS);
  });

  it('a client that sends its request at normal speed is answered as usual', async () => {
    const body = JSON.stringify({ email: 'nobody@example.test', password: 'not a secret' });
    const { answer } = await trickle(port, {
      head:
        'POST /api/auth/login HTTP/1.1\r\nHost: shop\r\nContent-Type: application/json\r\n' +
        `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
      giveUpMs: 8000,
    });
    expect(answer).toMatch(/^HTTP\/1\.1 401/);
  });
});
