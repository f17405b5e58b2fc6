import SwaggerParser from '@apidevtools/swagger-parser';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestRuntime, type TestRuntime } from '../support/runtime.ts';

/** Every row of API.md, as OpenAPI writes it: method, path, and whether it needs a token. */
const API_MD: readonly [method: string, path: string, auth: 'public' | 'user' | 'admin'][] = [
  ['post', '/api/auth/register', 'public'],
  ['post', '/api/auth/login', 'public'],
  ['get', '/api/auth/me', 'user'],
  ['get', '/api/products', 'public'],
  ['get', '/api/products/{id}', 'public'],
  ['get', '/api/products/{id}/stock', 'public'],
  ['post', '/api/orders', 'user'],
  ['get', '/api/orders', 'user'],
  ['get', '/api/orders/{id}', 'user'],
  ['post', '/api/orders/{id}/pay', 'user'],
  ['post', '/api/orders/{id}/cancel', 'user'],
  ['post', '/api/admin/products', 'admin'],
  ['patch', '/api/admin/products/{id}', 'admin'],
  ['put', '/api/admin/products/{id}/stock', 'admin'],
  ['get', '/api/admin/products/low-stock', 'admin'],
  ['post', '/api/admin/stock/sync', 'admin'],
  ['get', '/api/admin/orders', 'admin'],
  ['get', '/api/queues/{id}/challenge', 'user'],
  ['post', '/api/queues/{id}/join', 'user'],
  ['get', '/api/queues/{id}/status', 'user'],
  ['get', '/api/admin/products/{id}/queue', 'admin'],
  ['put', '/api/admin/products/{id}/queue', 'admin'],
  ['get', '/healthz', 'public'],
  ['get', '/readyz', 'public'],
];

type Operation = {
  security?: Record<string, string[]>[];
  parameters?: { in: string; name: string; required?: boolean }[];
  requestBody?: { required?: boolean; content: Record<string, { schema: unknown }> };
  responses: Record<string, { description: string; content?: Record<string, { schema: unknown }> }>;
};
type Document = {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Record<string, unknown>>; securitySchemes: unknown };
};

function keysDeep(value: unknown, into = new Set<string>()): Set<string> {
  if (value && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      if (key === 'properties' && child && typeof child === 'object') {
        for (const name of Object.keys(child)) into.add(name);
      }
      keysDeep(child, into);
    }
  }
  return into;
}

describe('the OpenAPI document and Swagger UI', () => {
  let rt: TestRuntime;
  let app: FastifyInstance;
  let doc: Document;
  beforeAll(async () => {
    rt = await createTestRuntime();
    app = await rt.app();
    const res = await app.inject('/openapi.json');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    doc = JSON.parse(res.body) as Document;
  });
  afterAll(() => rt.close());

  it('is a valid OpenAPI 3 document (schema and references)', async () => {
    expect(doc.openapi).toMatch(/^3\./);
    // validate() checks against the official OpenAPI 3.0 schema and resolves every $ref.
    await expect(SwaggerParser.validate(structuredClone(doc) as never)).resolves.toBeTruthy();
  });

  it('describes every row of API.md with its method', () => {
    for (const [method, path] of API_MD) {
      expect(doc.paths[path]?.[method], `${method.toUpperCase()} ${path}`).toBeDefined();
    }
  });

  it('writes paths as API.md does (no trailing slash) and hides internal routes', () => {
    for (const path of Object.keys(doc.paths))
      expect(path === '/' || !path.endsWith('/')).toBe(true);
    expect(doc.paths['/openapi.json']).toBeUndefined();
    expect(doc.paths['/metrics']).toBeUndefined();
    expect(Object.keys(doc.paths).some((p) => p.startsWith('/docs'))).toBe(false);
  });

  it('requires the bearer token exactly on the protected routes', () => {
    expect(doc.components.securitySchemes).toMatchObject({
      bearerAuth: { type: 'http', scheme: 'bearer' },
    });
    for (const [method, path, auth] of API_MD) {
      const operation = doc.paths[path]![method]!;
      if (auth === 'public') expect(operation.security, `${method} ${path}`).toBeUndefined();
      else expect(operation.security, `${method} ${path}`).toEqual([{ bearerAuth: [] }]);
      if (auth !== 'public') expect(operation.responses['401'], `${method} ${path}`).toBeDefined();
      if (auth === 'admin') expect(operation.responses['403'], `${method} ${path}`).toBeDefined();
    }
  });

  it('gives every operation a JSON response schema for success and for errors', () => {
    for (const [method, path] of API_MD) {
      const { responses } = doc.paths[path]![method]!;
      const success = Object.keys(responses).filter((status) => status.startsWith('2'));
      expect(success.length, `${method} ${path}`).toBeGreaterThan(0);
      for (const [status, response] of Object.entries(responses)) {
        expect(
          response.content?.['application/json']?.schema,
          `${method} ${path} ${status}`,
        ).toBeDefined();
        expect(response.description).not.toBe('Default Response');
      }
    }
  });

  it('documents the answers API.md names for the order path', () => {
    const place = doc.paths['/api/orders']!.post!;
    expect(Object.keys(place.responses).sort()).toEqual(
      ['201', '400', '401', '403', '404', '409', '422', '429', '503'].sort(),
    );
    expect(place.parameters).toContainEqual(
      expect.objectContaining({ in: 'header', name: 'idempotency-key', required: false }),
    );
    expect(doc.paths['/api/orders/{id}/pay']!.post!.responses['409']).toBeDefined();
    expect(doc.paths['/api/auth/login']!.post!.responses['429']).toBeDefined();
    expect(doc.paths['/api/auth/register']!.post!.responses['409']).toBeDefined();
    expect(doc.paths['/api/admin/products']!.post!.responses['409']).toBeDefined();
  });

  it('names the contract schemas, and they match the wire format', () => {
    const { schemas } = doc.components;
    for (const name of [
      'Product',
      'Order',
      'User',
      'AuthSession',
      'ErrorBody',
      'PlaceOrderInput',
    ]) {
      expect(schemas[name], name).toBeDefined();
    }
    const props = (name: string) => Object.keys((schemas[name]!.properties ?? {}) as object).sort();
    expect(props('Product')).toEqual(
      [
        'id',
        'sku',
        'name',
        'description',
        'image_url',
        'price_cents',
        'currency',
        'is_active',
        'available',
        'sale',
        'stock_buckets',
        'created_at',
        'updated_at',
      ].sort(),
    );
    expect(props('Order')).toEqual(
      expect.arrayContaining([
        'id',
        'status',
        'items',
        'total_cents',
        'currency',
        'created_at',
        'expires_at',
        'paid_at',
        'cancelled_at',
      ]),
    );
    expect(props('User')).toEqual(['email', 'id', 'name', 'role']);
    // Input schemas refuse unknown fields, as the server does.
    expect(schemas.PlaceOrderInput!.additionalProperties).toBe(false);
    expect(schemas.RegisterInput!.additionalProperties).toBe(false);
    // Nothing internal is described.
    const described = keysDeep(schemas);
    for (const word of [
      'password_hash',
      'passwordHash',
      'reservation_id',
      'fingerprint',
      'version',
    ]) {
      expect(described.has(word), word).toBe(false);
    }
  });

  it('the request bodies match API.md: stock is not a PATCH field, the sync body is optional', () => {
    const patchBody = doc.paths['/api/admin/products/{id}']!.patch!.requestBody!;
    const ref = JSON.stringify(patchBody.content['application/json']!.schema);
    const name = /#\/components\/schemas\/(\w+)/.exec(ref)?.[1];
    const schema = name
      ? doc.components.schemas[name]!
      : (patchBody.content['application/json']!.schema as Record<string, unknown>);
    expect(Object.keys(schema.properties as object)).not.toContain('stock');
    expect(doc.paths['/api/admin/stock/sync']!.post!.requestBody?.required).toBe(false);
    expect(doc.paths['/api/orders']!.post!.requestBody?.required).toBe(true);
  });

  it('serves Swagger UI at /docs as HTML', async () => {
    const res = await app.inject({ url: '/docs', headers: { accept: 'text/html' } });
    const page = res.statusCode === 302 ? await app.inject(res.headers.location as string) : res;
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body).toContain('swagger-ui');
  });
});
