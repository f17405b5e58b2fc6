import { pino, type DestinationStream, type Logger } from 'pino';
import type { Config } from '../config.ts';

export type { Logger };

/**
 * Paths never written to a log line, whatever logs them. Exact paths only: a wildcard makes
 * every line pay for a walk of its object, and the request line is logged thousands of times a
 * second during a sale.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  'password',
  'body.password',
  'input.password',
  'access_token',
];

/** The API's logger; `destination` defaults to stdout (tests capture lines through it). */
export function createLogger(
  config: Pick<Config, 'logLevel'>,
  destination?: DestinationStream,
): Logger {
  const options = {
    level: config.logLevel,
    base: { service: 'stampede-api' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    formatters: { level: (label: string) => ({ level: label.toUpperCase() }) },
  };
  // Written asynchronously: lines that come together leave in one write instead of blocking
  // the event loop once per line. Pending lines are flushed when the process exits.
  return pino(options, destination ?? pino.destination({ dest: 1, sync: false }));
}
