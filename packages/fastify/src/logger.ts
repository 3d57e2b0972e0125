// Engine error-log entries written to a Fastify (pino) logger.

import type { FastifyBaseLogger } from 'fastify';
import type { LogEntry, Logger, LogLevel } from '@phasekit/core';

/** The pino methods used: `app.log`, `request.log` or any pino logger fits. */
export type PinoLikeLogger = Pick<FastifyBaseLogger, 'fatal' | 'error' | 'warn' | 'info' | 'debug'>;

/** nginx's nine levels onto pino's; where the name changes, `ngxLevel` keeps the original. */
const METHOD: Record<LogLevel, keyof PinoLikeLogger> = {
  stderr: 'info',
  emerg: 'fatal',
  alert: 'fatal',
  crit: 'fatal',
  error: 'error',
  warn: 'warn',
  notice: 'info',
  info: 'info',
  debug: 'debug',
};

/**
 * A phasekit `Logger` (the `logger` option of createEngine) that writes each entry to `log`:
 * `createEngine(config, { logger: fastifyLogger(app.log) })`. The message is pino's `msg`; the
 * request fields (`requestId`, `phase`, `location`, `client`, `request`) and `err` are properties.
 */
export function fastifyLogger(log: PinoLikeLogger): Logger {
  return (entry: LogEntry) => {
    const method = METHOD[entry.level];
    const fields: Record<string, unknown> = {};
    if (method !== entry.level) fields.ngxLevel = entry.level;
    if (entry.requestId !== undefined) fields.requestId = entry.requestId;
    if (entry.phase !== undefined) fields.phase = entry.phase;
    if (entry.location !== undefined) fields.location = entry.location;
    if (entry.client !== undefined) fields.client = entry.client;
    if (entry.request !== undefined) fields.request = entry.request;
    if (entry.err !== undefined) fields.err = entry.err;
    log[method](fields, entry.message);
  };
}
