// ngx.status, ngx.ctx, ngx.arg and ngx.log for TypeScript handlers.

import { BadArgumentError } from '../errors.js';
import type { RequestState } from '../request/state.js';
import { pushPrintable } from '../text/format.js';
import { allow } from './check.js';
import { LOG_LEVEL_NAMES } from './constants.js';
import type { BodyFilterArg, Chunk, Printable } from './types.js';

export function getStatus(s: RequestState): number {
  return allow(s, 'ngx.status').status;
}

export function setStatus(s: RequestState, value: number): void {
  allow(s, 'ngx.status=');
  if (s.headersSent && s.phase !== 'headerFilter') {
    s.engine.log('error', 'attempt to set ngx.status after sending out response headers', s);
    return;
  }
  if (!Number.isInteger(value) || value < 100 || value > 999) throw new BadArgumentError(`bad status ${String(value)}`);
  s.status = value;
}

export function getCtx(s: RequestState): Record<string, unknown> {
  return (allow(s, 'ngx.ctx').ctx ??= Object.create(null) as Record<string, unknown>);
}

export function setCtx(s: RequestState, value: Record<string, unknown>): void {
  allow(s, 'ngx.ctx');
  if (typeof value !== 'object' || value === null) throw new BadArgumentError('ngx.ctx must be a table');
  s.ctx = value;
}

/** body_filter's chunk and eof, or set's arguments. */
export function getArg(s: RequestState): BodyFilterArg {
  allow(s, 'ngx.arg');
  return s.arg ?? (s.setArgs as unknown as BodyFilterArg);
}

export function log(s: RequestState, level: number, values: Printable[]): void {
  const name = LOG_LEVEL_NAMES[level];
  if (name === undefined) throw new BadArgumentError(`bad log level: ${level}`);
  const parts: Chunk[] = [];
  pushPrintable(parts, values, 'log');
  s.engine.log(name, parts.map((p) => (typeof p === 'string' ? p : Buffer.from(p).toString())).join(''), s);
}
