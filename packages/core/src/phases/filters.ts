// header_filter and body_filter: the response's headers once, then every body chunk, for every kind of request.

import type { ResponseHeaders } from '../http/headers.js';
import { NGX_CONSTANTS } from '../ngx/constants.js';
import type { BodyFilterArg, Chunk } from '../ngx/types.js';
import type { CompiledHandler } from '../engine/script-runtime.js';
import type { RequestState } from '../request/state.js';
import { defaultPage, reasonPhrase } from '../text/status.js';
import { runHandler } from './run.js';

/** Sets the default Content-Type (or text/html for nginx's pages) before the headers go out. */
export function defaultHeaders(s: RequestState, headers: ResponseHeaders, page: boolean): void {
  const status = s.status;
  if (page) {
    headers.set('Content-Type', 'text/html');
    headers.delete('Content-Length');
  } else if (status !== 204 && status !== 304 && (status < 300 || reasonPhrase(status) !== undefined) && !headers.has('content-type') && !headers.wasCleared('content-type')) {
    headers.setOwn('content-type', 'Content-Type', s.location.defaultType);
  }
}

/**
 * Runs header_filter (once per response). Returns the body that replaces the response when
 * the filter called ngx.exit (a page, or '' for none), `null` to abort, undefined otherwise.
 */
export function runHeaderFilter(s: RequestState, headers: ResponseHeaders): Chunk | null | undefined {
  const filter = s.location.headerFilter;
  if (filter === undefined) return undefined;
  s.exitCode = undefined;
  // A request that failed earlier still sends its 500 page through the filter; only the filter's own failure aborts.
  const failedBefore = s.failed;
  nested(s, 'headerFilter', filter);
  if (s.failed && !failedBefore) return null;
  const code = s.exitCode as number | undefined;
  if (code === undefined || code < 200) return undefined;
  // ngx.exit in header_filter replaces the response: nginx's page, or an empty body.
  s.status = code;
  const page = defaultPage(code);
  if (page === undefined) headers.delete('Content-Type');
  else headers.set('Content-Type', 'text/html');
  headers.delete('Content-Length');
  return page ?? '';
}

/**
 * Passes one chunk through body_filter. Returns what to send, or null when the response is
 * to be aborted (an error, or the filter returned ngx.ERROR). A filter that sets eof ends the body.
 */
export function runBodyFilter(s: RequestState, chunk: Chunk, eof: boolean): BodyFilterArg | null {
  const arg: BodyFilterArg = { chunk, eof };
  const filter = s.location.bodyFilter;
  if (filter === undefined || s.status === 204 || s.status === 304) return arg;
  s.arg = arg;
  const failedBefore = s.failed;
  nested(s, 'bodyFilter', filter);
  s.arg = undefined;
  if ((s.failed && !failedBefore) || s.result === NGX_CONSTANTS.ERROR) return null;
  if (arg.chunk === null || arg.chunk === undefined) arg.chunk = '';
  return arg;
}

/** Runs a filter from inside another phase (ngx.flush in content) and comes back to that phase. */
function nested(s: RequestState, phase: 'headerFilter' | 'bodyFilter', filter: CompiledHandler): void {
  const outer = s.phase;
  runHandler(s, phase, filter);
  s.phase = outer;
}
