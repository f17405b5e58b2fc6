import { setTimeout as sleep } from 'node:timers/promises';
import { randomBytes, randomUUID } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthSession, MeResponse } from '@stampede/contract';
import { users } from '../../src/db/schema.ts';
import { createUser, TEST_PASSWORD } from '../support/fixtures.ts';
import {
  call,
  databaseState,
  expectError,
  expectStatus,
  expectValidation,
} from '../support/http-helpers.ts';
import { nowSeconds, signToken, tamperedToken, unsignedToken } from '../support/http-tokens.ts';
import { createTestRuntime, type TestRuntime } from '../support/runtime.ts';

const uniqueEmail = (tag = 'user') => `${tag}-${randomUUID().slice(0, 8)}@example.test`;
/** Each test signs in from its own address, so the per-IP limit of one test spares the others. */
let lastOctet = 10;
const freshIp = () => `10.0.${Math.floor(lastOctet / 250)}.${(lastOctet++ % 250) + 1}`;

describe('auth over HTTP (Redis-backed login limiter)', () => {
  let rt: TestRuntime;
  let app: FastifyInstance;
  let secret: string;
  beforeAll(async () => {
    rt = await createTestRuntime();
    app = await rt.app();
    secret = rt.ctx.config.jwtSecret!;
  });
  afterAll(() => rt.close());

  const register = (payload: unknown) =>
    call(app, { method: 'POST', url: '/api/auth/register', payload: payload as object });
  const login = (email: string, password: string, ip = freshIp()) =>
    call(app, {
      method: 'POST',
      url: '/api/auth/login',
      payload: { email, password },
      remoteAddress: ip,
    });
  const me = (authorization?: string) =>
    call(app, {
      method: 'GET',
      url: '/api/auth/me',
      ...(authorization === undefined ? {} : { headers: { authorization } }),
    });

  describe('register', () => {
    it('creates a customer, answers 201 with a session whose token works at once', async () => {
      const email = uniqueEmail('new');
      const res = expectStatus(
        await register({ email, password: 'a good password', name: 'Ada' }),
        201,
      );
      const session = AuthSession.parse(res.json());
      expect(session.user).toEqual({
        id: expect.any(Number),
        email,
        name: 'Ada',
        role: 'customer',
      });
      expect(session.expires_in).toBe(rt.ctx.config.jwtTtlSeconds);
      const who = expectStatus(await me(`Bearer ${session.access_token}`), 200);
      expect(MeResponse.parse(who.json()).user).toEqual(session.user);
    });

    it('stores the password only as an argon2id hash', async () => {
      const email = uniqueEmail('hash');
      expectStatus(await register({ email, password: 'hash me please', name: 'H' }), 201);
      const [row] = await rt.ctx.db.select().from(users).where(eq(users.email, email));
      expect(row!.passwordHash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
      expect(row!.passwordHash).not.toContain('hash me please');
    });

    it('normalises the email: trimmed and lower-case', async () => {
      const local = `MiXeD-${randomUUID().slice(0, 8)}`;
      const res = expectStatus(
        await register({ email: `  ${local}@Example.TEST `, password: 'whatever123', name: 'M' }),
        201,
      );
      expect(res.json().user.email).toBe(`${local.toLowerCase()}@example.test`);
    });

    it('answers 409 email_taken for an existing email, in any case, and changes nothing', async () => {
      const email = uniqueEmail('taken');
      expectStatus(await register({ email, password: 'first password', name: 'One' }), 201);
      const before = await databaseState(rt.ctx);
      for (const variant of [email, email.toUpperCase(), ` ${email.replace('taken', 'TAKEN')}`]) {
        expectError(
          await register({ email: variant, password: 'second password', name: 'Two' }),
          409,
          'email_taken',
        );
      }
      expect(await databaseState(rt.ctx)).toEqual(before);
    });

    it.each([
      ['a password of 7 characters', { password: '1234567' }, 'body.password'],
      ['a password of 129 characters', { password: 'x'.repeat(129) }, 'body.password'],
      ['an email that is not one', { email: 'not-an-email' }, 'body.email'],
      ['an empty name', { name: '   ' }, 'body.name'],
      ['a name of 101 characters', { name: 'n'.repeat(101) }, 'body.name'],
      ['a role (customers cannot choose one)', { role: 'admin' }, 'body.role'],
      ['a number as password', { password: 12345678 }, 'body.password'],
    ])('refuses %s with 400 naming the field', async (_label, change, path) => {
      const before = await databaseState(rt.ctx);
      const body = { email: uniqueEmail('bad'), password: 'valid password', name: 'V', ...change };
      expectValidation(await register(body), path);
      expect(await databaseState(rt.ctx)).toEqual(before);
    });

    it('accepts passwords of exactly 8 and 128 characters', async () => {
      expectStatus(await register({ email: uniqueEmail(), password: 'kq7#vz2m', name: 'A' }), 201);
      const long = 'y'.repeat(128);
      const email = uniqueEmail();
      expectStatus(await register({ email, password: long, name: 'B' }), 201);
      expectStatus(await login(email, long), 200);
    });
  });

  describe('login', () => {
    it('signs in with the right password, whatever the case of the email', async () => {
      const user = await createUser(rt.ctx);
      const res = expectStatus(await login(user.email.toUpperCase(), TEST_PASSWORD), 200);
      const session = AuthSession.parse(res.json());
      expect(session.user).toMatchObject({ id: user.id, email: user.email, role: 'customer' });
      expectStatus(await me(`Bearer ${session.access_token}`), 200);
    });

    it('answers an unknown email exactly like a wrong password', async () => {
      const user = await createUser(rt.ctx);
      const wrong = expectError(
        await login(user.email, 'wrong password'),
        401,
        'invalid_credentials',
      );
      const unknown = expectError(
        await login(uniqueEmail('nobody'), 'wrong password'),
        401,
        'invalid_credentials',
      );
      expect(unknown).toEqual(wrong);
    });

    it('takes about as long for an unknown email as for a wrong password', async () => {
      const user = await createUser(rt.ctx);
      const time = async (email: string) => {
        const started = performance.now();
        await login(email, 'wrong password');
        return performance.now() - started;
      };
      await time(uniqueEmail()); // the decoy hash is made once; measure after it exists
      const wrong: number[] = [];
      const unknown: number[] = [];
      for (let i = 0; i < 3; i += 1) {
        wrong.push(await time(user.email));
        unknown.push(await time(uniqueEmail()));
      }
      const median = (values: number[]) => values.sort((a, b) => a - b)[1]!;
      // Both verify one argon2id hash; without the decoy an unknown email would answer in ~1 ms.
      expect(median(unknown)).toBeGreaterThan(median(wrong) * 0.4);
    });

    it.each([
      ['no password', { email: 'a@b.test' }, 'body.password'],
      ['an empty password', { email: 'a@b.test', password: '' }, 'body.password'],
      ['an extra field', { email: 'a@b.test', password: 'x', remember: true }, 'body.remember'],
      ['an email as a number', { email: 42, password: 'x' }, 'body.email'],
    ])('refuses %s with 400', async (_label, payload, path) => {
      expectValidation(await call(app, { method: 'POST', url: '/api/auth/login', payload }), path);
    });

    it('a stranger’s wrong passwords never lock the owner out, the operator’s account included', async () => {
      const operator = await createUser(rt.ctx, 'admin');
      const stranger = freshIp();
      const answers = [];
      for (let i = 0; i < 12; i += 1)
        answers.push((await login(operator.email, `guess ${i}`, stranger)).statusCode);
      expect(answers.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
      expect(answers).toContain(429);
      // The operator, from anywhere else (even an address never used before), signs in at once.
      expectStatus(await login(operator.email, TEST_PASSWORD, freshIp()), 200);
    });

    it('guesses from one address at one account are slowed: 5 free, then 1 s, then 2 s, ...', async () => {
      const user = await createUser(rt.ctx);
      const ip = freshIp();
      for (let i = 0; i < 5; i += 1) {
        expectError(await login(user.email, `wrong ${i}`, ip), 401, 'invalid_credentials');
      }
      const first = await login(user.email, TEST_PASSWORD, ip);
      expectError(first, 429, 'rate_limited');
      expect(first.headers['retry-after']).toBe('1');
      // The same email in another case is the same account, and the same limit.
      expectError(await login(user.email.toUpperCase(), TEST_PASSWORD, ip), 429, 'rate_limited');
      await sleep(1050);
      expectError(await login(user.email, 'wrong again', ip), 401, 'invalid_credentials');
      const second = await login(user.email, TEST_PASSWORD, ip);
      expectError(second, 429, 'rate_limited');
      expect(second.headers['retry-after']).toBe('2');
      // Another account from the same address is not affected.
      const other = await createUser(rt.ctx);
      expectStatus(await login(other.email, TEST_PASSWORD, ip), 200);
    });

    it('limits unknown emails the same way (no account enumeration through the limiter)', async () => {
      const email = uniqueEmail('ghost');
      const ip = freshIp();
      for (let i = 0; i < 5; i += 1) {
        expectError(await login(email, 'guess', ip), 401, 'invalid_credentials');
      }
      expectError(await login(email, 'guess', ip), 429, 'rate_limited');
    });

    it('guesses at one account from many addresses slow new addresses, never the owner at home', async () => {
      const owner = await createUser(rt.ctx);
      const home = freshIp();
      expectStatus(await login(owner.email, TEST_PASSWORD, home), 200);
      for (let i = 0; i < 20; i += 1) {
        expectError(await login(owner.email, `botnet ${i}`, freshIp()), 401, 'invalid_credentials');
      }
      const elsewhere = await login(owner.email, TEST_PASSWORD, freshIp());
      expectError(elsewhere, 429, 'rate_limited');
      expect(Number(elsewhere.headers['retry-after'])).toBeLessThanOrEqual(60);
      expectStatus(await login(owner.email, TEST_PASSWORD, home), 200);
    });

    it('an address spraying many accounts is slowed after 20, not the people who signed in there before', async () => {
      const ip = freshIp();
      const regular = await createUser(rt.ctx);
      expectStatus(await login(regular.email, TEST_PASSWORD, ip), 200);
      for (let i = 0; i < 20; i += 1) {
        expectError(await login(uniqueEmail('spray'), 'guess', ip), 401, 'invalid_credentials');
      }
      const newcomer = await createUser(rt.ctx);
      const limited = await login(newcomer.email, TEST_PASSWORD, ip);
      expectError(limited, 429, 'rate_limited');
      const retryAfter = Number(limited.headers['retry-after']);
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expectStatus(await login(regular.email, TEST_PASSWORD, ip), 200);
      // Another address signs in fine.
      expectStatus(await login(newcomer.email, TEST_PASSWORD, freshIp()), 200);
    });

    it('40 parallel guesses from one address at 40 accounts: at most 20 are checked', async () => {
      const ip = freshIp();
      const answers = await Promise.all(
        Array.from({ length: 40 }, (_, i) => login(uniqueEmail(`par${i}`), 'guess', ip)),
      );
      const codes = answers.map((res) => res.statusCode);
      expect(codes.filter((code) => code === 401).length).toBeLessThanOrEqual(20);
      expect(codes.filter((code) => code === 429).length).toBeGreaterThanOrEqual(20);
      expect(codes.every((code) => code === 401 || code === 429)).toBe(true);
    });

    it('IPv6 addresses count by /64: guesses spread over one /64 share its limit', async () => {
      const net = `2001:db8:${(lastOctet++).toString(16)}:1`;
      for (let i = 1; i <= 20; i += 1) {
        expectError(
          await login(uniqueEmail('v6'), 'guess', `${net}::${i.toString(16)}`),
          401,
          'invalid_credentials',
        );
      }
      const user = await createUser(rt.ctx);
      expectError(
        await login(user.email, TEST_PASSWORD, `${net}:abcd:ef01:2345:6789`),
        429,
        'rate_limited',
      );
      expectStatus(await login(user.email, TEST_PASSWORD, `${net.replace(/:1$/, ':2')}::1`), 200);
    });

    it('people who signed in from an address before are never limited there, however many at once', async () => {
      const ip = freshIp();
      const people = await Promise.all(Array.from({ length: 30 }, () => createUser(rt.ctx)));
      for (const person of people) expectStatus(await login(person.email, TEST_PASSWORD, ip), 200);
      // Someone sprays the address meanwhile.
      for (let i = 0; i < 20; i += 1) await login(uniqueEmail('noise'), 'guess', ip);
      const answers = await Promise.all(people.map((p) => login(p.email, TEST_PASSWORD, ip)));
      expect(answers.map((res) => res.statusCode)).toEqual(people.map(() => 200));
    });

    it('a successful sign-in clears the failures of that email at that address', async () => {
      const user = await createUser(rt.ctx);
      const ip = freshIp();
      for (let i = 0; i < 4; i += 1) {
        expectError(await login(user.email, 'wrong', ip), 401, 'invalid_credentials');
      }
      expectStatus(await login(user.email, TEST_PASSWORD, ip), 200);
      for (let i = 0; i < 4; i += 1) {
        expectError(await login(user.email, 'wrong', ip), 401, 'invalid_credentials');
      }
      expectStatus(await login(user.email, TEST_PASSWORD, ip), 200);
    });

    it('a burst of parallel guesses from one address at one account: 5 are checked', async () => {
      const user = await createUser(rt.ctx);
      const ip = freshIp();
      const answers = await Promise.all(
        Array.from({ length: 12 }, (_, i) => login(user.email, `parallel ${i}`, ip)),
      );
      const codes = answers.map((res) => res.statusCode).sort();
      expect(codes.filter((code) => code === 401)).toHaveLength(5);
      expect(codes.filter((code) => code === 429)).toHaveLength(7);
    });

    it('keeps the counters in Redis, so every API process shares them', async () => {
      const user = await createUser(rt.ctx);
      expectError(await login(user.email, 'wrong', freshIp()), 401, 'invalid_credentials');
      const keys = await rt.redis().keys(`${rt.prefix}{login}:*`);
      expect(keys.length).toBeGreaterThan(0);
      // No email address in any key.
      expect(keys.join(' ')).not.toContain('@');
    });
  });

  describe('tokens', () => {
    let user: Awaited<ReturnType<typeof createUser>>;
    beforeAll(async () => {
      user = await createUser(rt.ctx);
    });
    const claims = (overrides: Record<string, unknown> = {}) => ({
      iss: rt.ctx.config.jwtIssuer,
      aud: rt.ctx.config.jwtAudience,
      sub: String(user.id),
      role: 'customer',
      iat: nowSeconds(),
      exp: nowSeconds() + 600,
      ...overrides,
    });

    it('accepts the token the API issued', async () => {
      expectStatus(await me(`Bearer ${user.token}`), 200);
    });

    it('accepts a correctly signed HS256 token (the sanity check for the cases below)', async () => {
      expectStatus(await me(`Bearer ${signToken(claims(), { secret })}`), 200);
    });

    it('refuses a token it accepted a moment ago once the token has expired', async () => {
      // Verified tokens are remembered; the expiry is checked again on every use.
      const token = signToken(claims({ exp: nowSeconds() + 2 }), { secret });
      expectStatus(await me(`Bearer ${token}`), 200);
      expectStatus(await me(`Bearer ${token}`), 200);
      await sleep(2100);
      expectError(await me(`Bearer ${token}`), 401, 'unauthorized');
    });

    it('accepts the scheme name in any case', async () => {
      expectStatus(await me(`bearer ${user.token}`), 200);
    });

    it.each<[string, () => string | undefined]>([
      ['no Authorization header', () => undefined],
      ['an empty header', () => ''],
      ['a Basic scheme', () => `Basic ${Buffer.from('a:b').toString('base64')}`],
      ['Bearer without a token', () => 'Bearer '],
      ['a token that is not a JWT', () => 'Bearer not-a-jwt'],
      ['a token with extra spaces', () => `Bearer  ${user.token}`],
      ['two tokens', () => `Bearer ${user.token} ${user.token}`],
      [
        'an altered payload (another user id)',
        () => `Bearer ${tamperedToken(user.token, claims({ sub: String(user.id + 1) }))}`,
      ],
      [
        'an altered payload (role admin)',
        () => `Bearer ${tamperedToken(user.token, claims({ role: 'admin' }))}`,
      ],
      ['an altered signature', () => `Bearer ${user.token.slice(0, -4)}AAAA`],
      ['alg none, unsigned', () => `Bearer ${unsignedToken(claims())}`],
      [
        'alg none with the original signature',
        () => {
          const [, body, signature] = signToken(claims(), { secret }).split('.');
          const head = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString(
            'base64url',
          );
          return `Bearer ${head}.${body}.${signature}`;
        },
      ],
      [
        'signed with another key',
        () => `Bearer ${signToken(claims(), { secret: randomBytes(32).toString('hex') })}`,
      ],
      [
        'signed with the right key but HS512',
        () => `Bearer ${signToken(claims(), { secret, alg: 'HS512' })}`,
      ],
      [
        'expired',
        () =>
          `Bearer ${signToken(claims({ iat: nowSeconds() - 7200, exp: nowSeconds() - 3600 }), { secret })}`,
      ],
      [
        'without exp',
        () => {
          const { exp: _exp, ...rest } = claims();
          return `Bearer ${signToken(rest, { secret })}`;
        },
      ],
      [
        'exp that is not a number',
        () => `Bearer ${signToken(claims({ exp: 'tomorrow' }), { secret })}`,
      ],
      [
        'without sub',
        () => {
          const { sub: _sub, ...rest } = claims();
          return `Bearer ${signToken(rest, { secret })}`;
        },
      ],
      ['a non-numeric sub', () => `Bearer ${signToken(claims({ sub: 'alice' }), { secret })}`],
      ['a fractional sub', () => `Bearer ${signToken(claims({ sub: '1.5' }), { secret })}`],
      ['sub 0', () => `Bearer ${signToken(claims({ sub: '0' }), { secret })}`],
      ['a negative sub', () => `Bearer ${signToken(claims({ sub: '-1' }), { secret })}`],
      [
        'a sub beyond any id',
        () => `Bearer ${signToken(claims({ sub: '99999999999999999999' }), { secret })}`,
      ],
      [
        'not valid before an hour from now',
        () => `Bearer ${signToken(claims({ nbf: nowSeconds() + 3600 }), { secret })}`,
      ],
      ['without iss', () => `Bearer ${signToken(claims({ iss: undefined }), { secret })}`],
      ['another issuer', () => `Bearer ${signToken(claims({ iss: 'elsewhere' }), { secret })}`],
      ['without aud', () => `Bearer ${signToken(claims({ aud: undefined }), { secret })}`],
      [
        'another audience (a token meant for another service)',
        () => `Bearer ${signToken(claims({ aud: 'stampede-admin' }), { secret })}`,
      ],
      [
        'the audience inside a list',
        () => `Bearer ${signToken(claims({ aud: [rt.ctx.config.jwtAudience] }), { secret })}`,
      ],
      ['without iat', () => `Bearer ${signToken(claims({ iat: undefined }), { secret })}`],
      [
        'issued in the future',
        () =>
          `Bearer ${signToken(claims({ iat: nowSeconds() + 600, exp: nowSeconds() + 900 }), { secret })}`,
      ],
      [
        'a lifetime longer than the server issues (JWT_TTL_S)',
        () =>
          `Bearer ${signToken(claims({ exp: nowSeconds() + rt.ctx.config.jwtTtlSeconds + 60 }), { secret })}`,
      ],
      ['a padded signature', () => `Bearer ${user.token}=`],
      [
        'the signature in standard base64 (+ and / for - and _)',
        () => {
          // Re-sign until the signature has a character that the two alphabets spell apart.
          for (let i = 0; ; i += 1) {
            const token = signToken(claims({ jti: i }), { secret });
            const signature = token.split('.')[2]!;
            if (/[-_]/.test(signature)) {
              const standard = signature.replaceAll('-', '+').replaceAll('_', '/');
              return `Bearer ${token.slice(0, token.lastIndexOf('.') + 1)}${standard}`;
            }
          }
        },
      ],
    ])('refuses %s with 401', async (_label, header) => {
      expectError(await me(header()), 401, 'unauthorized');
    });

    it('a token has exactly one valid spelling: the other values of its last character are refused', async () => {
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
      const token = user.token;
      const last = alphabet.indexOf(token.at(-1)!);
      // 32 bytes in 43 characters: the last one carries 4 bits, so four characters decode alike.
      const spellings = [0, 1, 2, 3].map(
        (low) => `${token.slice(0, -1)}${alphabet[(last & ~3) | low]}`,
      );
      const statuses = await Promise.all(
        spellings.map(async (spelling) => (await me(`Bearer ${spelling}`)).statusCode),
      );
      expect(statuses.filter((status) => status === 200)).toHaveLength(1);
      expect(statuses.filter((status) => status === 401)).toHaveLength(3);
    });

    it('issues tokens naming this shop as issuer and audience, living JWT_TTL_S', async () => {
      const payload = JSON.parse(Buffer.from(user.token.split('.')[1]!, 'base64url').toString());
      expect(payload).toMatchObject({
        iss: rt.ctx.config.jwtIssuer,
        aud: rt.ctx.config.jwtAudience,
        sub: String(user.id),
      });
      expect(payload.exp - payload.iat).toBe(rt.ctx.config.jwtTtlSeconds);
    });

    it('refuses a valid token whose account no longer exists', async () => {
      const token = signToken(claims({ sub: '2147483000' }), { secret });
      expectError(await me(`Bearer ${token}`), 401, 'unauthorized');
    });

    it('protects every user and admin route the same way', async () => {
      const bad = `Bearer ${unsignedToken(claims({ role: 'admin' }))}`;
      for (const [method, url] of [
        ['GET', '/api/orders'],
        ['POST', '/api/orders'],
        ['GET', '/api/orders/1'],
        ['POST', '/api/orders/1/pay'],
        ['POST', '/api/orders/1/cancel'],
        ['GET', '/api/admin/orders'],
        ['POST', '/api/admin/products'],
        ['POST', '/api/admin/stock/sync'],
      ] as const) {
        expectError(
          await call(app, { method, url, headers: { authorization: bad } }),
          401,
          'unauthorized',
        );
      }
    });
  });

  describe('admin role', () => {
    it('is checked in the database: a demoted admin’s still-valid token gets 403', async () => {
      const admin = await createUser(rt.ctx, 'admin');
      const listOrders = () => call(app, { method: 'GET', url: '/api/admin/orders', as: admin });
      expectStatus(await listOrders(), 200);
      await rt.ctx.db
        .update(users)
        .set({ role: 'customer', updatedAt: sql`now()` })
        .where(eq(users.id, admin.id));
      expectError(await listOrders(), 403, 'forbidden');
    });

    it('a customer whose token claims admin (it cannot be forged) is still checked: 403', async () => {
      const customer = await createUser(rt.ctx);
      const token = rt.ctx.tokens.issue({ userId: customer.id, role: 'admin' });
      expectError(
        await call(app, {
          method: 'GET',
          url: '/api/admin/orders',
          headers: { authorization: `Bearer ${token}` },
        }),
        403,
        'forbidden',
      );
    });

    it('a promoted customer is admin at once, with the token they already have', async () => {
      const customer = await createUser(rt.ctx);
      expectError(
        await call(app, { method: 'GET', url: '/api/admin/orders', as: customer }),
        403,
        'forbidden',
      );
      await rt.ctx.db.update(users).set({ role: 'admin' }).where(eq(users.id, customer.id));
      expectStatus(await call(app, { method: 'GET', url: '/api/admin/orders', as: customer }), 200);
    });
  });
});

describe('auth over HTTP (in-process login limiter, no Redis)', () => {
  let rt: TestRuntime;
  let app: FastifyInstance;
  beforeAll(async () => {
    rt = await createTestRuntime({ gate: 'memory' });
    app = await rt.app();
  });
  afterAll(() => rt.close());

  it('slows guesses in process with the same rules, and spares the owner elsewhere', async () => {
    const user = await createUser(rt.ctx);
    const login = (password: string, remoteAddress: string) =>
      call(app, {
        method: 'POST',
        url: '/api/auth/login',
        payload: { email: user.email, password },
        remoteAddress,
      });
    const stranger = freshIp();
    for (let i = 0; i < 5; i += 1) {
      expectError(await login('wrong', stranger), 401, 'invalid_credentials');
    }
    const limited = await login(TEST_PASSWORD, stranger);
    expectError(limited, 429, 'rate_limited');
    expect(limited.headers['retry-after']).toBe('1');
    expectStatus(await login(TEST_PASSWORD, freshIp()), 200);
  });
});
