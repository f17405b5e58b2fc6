import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import type { ErrorBody } from '@stampede/contract';
import { DrizzleQueryError } from 'drizzle-orm/errors';
import { AppError, DatabaseUnavailableError } from '../lib/errors.ts';
import type { Outage } from '../lib/outage.ts';
import { isDatabaseTimeout, isDatabaseUnavailable } from '../lib/pg-errors.ts';

/**
 * The one place where errors become answers. Every answer has API.md's error body; a 5xx is
 * logged with the request id and its internals never reach the client. A dependency that does
 * not answer is a 503 with Retry-After, told to its `Outage` (one log line per change of state)
 * rather than logged per request.
 */
export function registerErrorHandling(app: FastifyInstance, database?: Outage): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const answer = toAnswer(error);
    if (answer.status === 503) {
      if (isDatabaseUnavailable(error)) database?.failed(error);
      request.log.debug({ code: answer.body.error.code, reason: error.message }, 'request paused');
    } else if (answer.status >= 500) {
      request.log.error(loggable(error), 'request failed');
    } else if (!(error instanceof AppError)) {
      request.log.info({ code: answer.body.error.code, reason: error.message }, 'request refused');
    }
    return sendError(reply, answer.status, answer.body, answer.retryAfterSeconds);
  });
}

/**
 * What a failed request logs. A failed database query is logged as the driver's error (its
 * SQLSTATE, constraint, table) and the query text, never the query's parameters nor the
 * driver's `detail`: those carry user data (emails, password hashes, names).
 */
function loggable(error: Error): Record<string, unknown> {
  if (!(error instanceof DrizzleQueryError)) return { err: error };
  const cause = (error.cause ?? {}) as Record<string, unknown>;
  const pick = (key: string) => (typeof cause[key] === 'string' ? { [key]: cause[key] } : {});
  return {
    err: {
      type: 'DatabaseError',
      message: typeof cause.message === 'string' ? cause.message : 'database query failed',
      ...pick('code'),
      ...pick('constraint'),
      ...pick('table'),
      ...pick('column'),
      // The wrapper's own message (first lines of its stack) lists the parameters: dropped.
      stack: error.stack?.slice(Math.max(0, error.stack.indexOf('\n    at '))),
    },
    query: error.query,
  };
}

export function sendError(
  reply: FastifyReply,
  status: number,
  body: ErrorBody,
  retryAfterSeconds?: number,
): FastifyReply {
  if (retryAfterSeconds !== undefined) reply.header('retry-after', String(retryAfterSeconds));
  // Error bodies skip the route's response schema: they are shaped here, not by the route.
  return reply
    .code(status)
    .type('application/json; charset=utf-8')
    .serializer(JSON.stringify)
    .send(body);
}

/** API.md's answer to a route that does not exist. */
export function sendNotFound(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return sendError(reply, 404, {
    error: { code: 'not_found', message: `No route for ${request.method} ${request.url}.` },
  });
}

interface Answer {
  status: number;
  body: ErrorBody;
  retryAfterSeconds?: number;
}

/**
 * Answer an `AppError` straight from a route, without Fastify's error path: the order route
 * answers thousands of refusals a second during a sale.
 */
export function sendAppError(reply: FastifyReply, error: AppError): FastifyReply {
  const answer = appErrorAnswer(error);
  if (answer.status >= 500 && answer.status !== 503) {
    reply.request.log.error({ err: error }, 'request failed');
  }
  return sendError(reply, answer.status, answer.body, answer.retryAfterSeconds);
}

function appErrorAnswer(error: AppError): Answer {
  return {
    status: error.status,
    body: {
      error: {
        code: error.code,
        message: error.message,
        ...(error.details ? { details: error.details } : {}),
      },
    },
    retryAfterSeconds: error.retryAfterSeconds,
  };
}

function toAnswer(error: FastifyError): Answer {
  if (error instanceof AppError) {
    return appErrorAnswer(error);
  }
  if (hasZodFastifySchemaValidationErrors(error)) {
    const where = (error as { validationContext?: string }).validationContext ?? 'body';
    const fields = error.validation.flatMap((issue) => {
      const path = `${where}${issue.instancePath.replaceAll('/', '.')}`.replace(/\.$/, '');
      // An unknown field is named by its own path, so a client sees which one to drop.
      const unknown = (issue.params as { keys?: unknown }).keys;
      if (issue.keyword === 'unrecognized_keys' && Array.isArray(unknown)) {
        return unknown.map((key) => ({
          path: `${path}.${String(key)}`,
          message: 'is not a known field',
        }));
      }
      return [{ path, message: issue.message ?? 'is not valid' }];
    });
    return validationFailed(fields);
  }
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return {
        status: 413,
        body: { error: { code: 'payload_too_large', message: 'The request body is too large.' } },
      };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return {
        status: 415,
        body: {
          error: {
            code: 'unsupported_media_type',
            message: 'Send the body as application/json.',
          },
        },
      };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return validationFailed([{ path: 'body', message: 'is empty' }]);
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return validationFailed([{ path: 'body', message: 'length does not match Content-Length' }]);
  }
  // Malformed JSON and bodies carrying __proto__ or constructor.prototype keys (refused by the
  // parser) arrive as plain 400s.
  if (error.statusCode === 400 || error instanceof SyntaxError) {
    return validationFailed(
      [{ path: 'body', message: error.message }],
      'The body is not valid JSON.',
    );
  }
  if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
    return validationFailed([{ path: 'request', message: error.message }]);
  }
  if (isDatabaseUnavailable(error) || isDatabaseTimeout(error)) {
    return appErrorAnswer(new DatabaseUnavailableError(error));
  }
  return {
    status: 500,
    body: { error: { code: 'internal_error', message: 'Something went wrong on our side.' } },
  };
}

function validationFailed(
  fields: { path: string; message: string }[],
  message = 'The request is not valid.',
): Answer {
  return {
    status: 400,
    body: { error: { code: 'validation_failed', message, details: { fields } } },
  };
}

export type { FastifyRequest };
