import type { FastifyInstance } from 'fastify';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { docsPolicy, type SecurityHeaderOptions } from './security-headers.ts';

type OpenApiDocument = ReturnType<typeof jsonSchemaTransformObject>;
type TransformObjectInput = Parameters<typeof jsonSchemaTransformObject>[0];

const SCHEMA_REF = '#/components/schemas/';

/**
 * The OpenAPI 3 document at `/openapi.json` and Swagger UI at `/docs`, generated from the same
 * contract schemas the routes validate and serialize with, so the document cannot drift from
 * the server. Register before the routes.
 */
export async function registerOpenApi(
  app: FastifyInstance,
  headers: SecurityHeaderOptions,
): Promise<void> {
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Stampede API',
        version: '1.0.0',
        description:
          'The HTTP contract of the Stampede flash-sale shop (API.md). Every error answers ' +
          '`{ "error": { "code", "message", "details"? } }`; every answer carries `x-request-id`.',
      },
      components: {
        securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      },
    },
    transform: jsonSchemaTransform,
    transformObject: (input) => namedSchemasInUse(input as TransformObjectInput),
  });
  await app.register(fastifySwaggerUi, {
    routePrefix: '/docs',
    staticCSP: true,
    transformStaticCSP: (policy) => docsPolicy(policy, headers),
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}

const STATUS_TEXT: Record<string, string> = {
  '200': 'OK',
  '201': 'Created',
  '400': 'validation_failed: the offending fields are in `error.details.fields`',
  '401': 'Missing, invalid or expired token (`unauthorized`), or `invalid_credentials`',
  '403': 'forbidden: the signed-in user lacks the role',
  '404': 'The resource does not exist (or is not yours)',
  '409': 'Conflict: `error.code` says which (see API.md)',
  '413': 'payload_too_large: the body is over 64 KiB',
  '415': 'unsupported_media_type: send application/json',
  '422': 'idempotency_key_reused: the same Idempotency-Key with a different body',
  '429': 'rate_limited: wait for the `Retry-After` seconds',
  '503':
    'service_unavailable (the database is away) or stock_unavailable (the stock gate is): wait for the `Retry-After` seconds',
};

type Json = Record<string, unknown>;

/**
 * Contract schemas named with `.meta({ id })` become components referenced by name. The type
 * provider emits an input and an output variant of each (`Product`, `ProductInput`); only the
 * ones some route refers to are kept, so the document lists what the API really uses. Paths are
 * written as API.md writes them (`/api/orders`, not `/api/orders/`), and each answer gets a
 * description of what its status means.
 */
function namedSchemasInUse(input: TransformObjectInput): OpenApiDocument {
  const document = jsonSchemaTransformObject(input) as Json;
  const components = (document.components ?? {}) as Json;
  const schemas = (components.schemas ?? {}) as Json;
  const paths = Object.fromEntries(
    Object.entries((document.paths ?? {}) as Json).map(([path, item]) => [
      path.length > 1 ? path.replace(/\/$/, '') : path,
      describeResponses(item as Json),
    ]),
  );
  const used = new Set<string>();
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) {
      value.forEach(visit);
    } else if (value && typeof value === 'object') {
      for (const [key, child] of Object.entries(value)) {
        if (key === '$ref' && typeof child === 'string' && child.startsWith(SCHEMA_REF)) {
          const name = child.slice(SCHEMA_REF.length);
          if (!used.has(name)) {
            used.add(name);
            visit(schemas[name]);
          }
        } else {
          visit(child);
        }
      }
    }
  };
  visit(paths);
  const kept = Object.fromEntries(Object.entries(schemas).filter(([name]) => used.has(name)));
  return {
    ...document,
    paths,
    components: { ...components, schemas: kept },
  } as OpenApiDocument;
}

function describeResponses(item: Json): Json {
  return Object.fromEntries(
    Object.entries(item).map(([method, operation]) => {
      const responses = (operation as Json).responses as Json | undefined;
      if (!responses) return [method, operation];
      // A body the schema allows to be null or absent (stock/sync) is not required.
      const body = (operation as Json).requestBody as Json | undefined;
      const content = body?.content as Record<string, { schema?: Json }> | undefined;
      const optionalBody = content?.['application/json']?.schema?.nullable === true;
      // Every operation that can fail can also find a dependency away: 503 with Retry-After.
      const anError = Object.entries(responses).find(([status]) => Number(status) >= 400);
      const withOutage =
        anError && !('503' in responses)
          ? { ...responses, '503': { ...(anError[1] as Json), description: 'Default Response' } }
          : responses;
      const described = Object.fromEntries(
        Object.entries(withOutage).map(([status, response]) => {
          const r = response as Json;
          const text = STATUS_TEXT[status];
          return [
            status,
            r.description === 'Default Response' && text ? { ...r, description: text } : r,
          ];
        }),
      );
      return [
        method,
        {
          ...(operation as Json),
          ...(optionalBody ? { requestBody: { ...body, required: false } } : {}),
          responses: described,
        },
      ];
    }),
  );
}
