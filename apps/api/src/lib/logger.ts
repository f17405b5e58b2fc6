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
  if (destination) return pino(options, destination);
  // Written asynchronously and in batches: lines gather until 4 KiB or the next flush (every
  // FLUSH_MS), so that a sale's thousands of request lines a second cost a write every few
  // dozen lines, not a system call each (it was the largest single cost of a sold-out refusal).
  // Pending lines are flushed when the process exits; a process killed outright loses at most
  // the last FLUSH_MS of lines.
  const logger = pino(options, pino.destination({ dest: 1, sync: false, minLength: 4096 }));
  setInterval(() => logger.flush(), FLUSH_MS).unref();
  return logger;
}

/** How long a log line waits at most for its batch to be written. */
export const FLUSH_MS = 100;
