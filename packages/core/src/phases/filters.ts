// header_filter and body_filter: the response's headers once, then every body chunk, for every kind of request.

import type { ResponseHeaders } from '../http/headers.js';
import { NGX_CONSTANTS } from '../ngx/constants.js';
import type { BodyFilterArg, Chunk, Printable } from '../ngx/types.js';
import { chunkLength, joinChunks, pushPrintable } from '../text/format.js';
import { formatNumber } from '../text/number.js';
import type { CompiledHandler } from '../engine/script-runtime.js';
import type { RequestState } from '../request/state.js';
import { CLOSE_STATUSES, defaultPage, reasonPhrase } from '../text/status.js';
import { runHandler } from './run.js';

/**
 * Sets the default Content-Type (or text/html for nginx's pages) before the headers go out: for
 * output, whatever the status; for a body-less answer, only where nginx knows the status.
 */
export function defaultHeaders(s: RequestState, headers: ResponseHeaders, page: boolean, output = true): void {
  const status = s.status;
  if (page) {
    headers.set('Content-Type', 'text/html');
    headers.drop('Content-Length');
  } else if (status !== 204 && status !== 304 && (output || status < 300 || reasonPhrase(status) !== undefined) && !headers.has('content-type') && !headers.wasCleared('content-type')) {
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
  if (nested(s, 'headerFilter', filter)) return null;
  const code = s.exitCode as number | undefined;
  // ngx.exit(ngx.ERROR) (or 444, 408, 499) closes the connection, as nginx does.
  if (code === NGX_CONSTANTS.ERROR || (code !== undefined && CLOSE_STATUSES.has(code))) return null;
  if (code === undefined || code < 200) return undefined;
  // ngx.exit in header_filter replaces the response: nginx's page, or an empty body.
  s.status = code;
  const page = defaultPage(code);
  if (page === undefined) headers.drop('Content-Type');
  else headers.set('Content-Type', 'text/html');
  headers.drop('Content-Length');
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
  const failed = nested(s, 'bodyFilter', filter);
  s.arg = undefined;
  if (failed || s.result === NGX_CONSTANTS.ERROR) return null;
  const out = chunkOf(arg.chunk as unknown);
  if (out === undefined) {
    s.failed = true;
    s.engine.log('error', `bad chunk data type: ${typeof arg.chunk}`, s);
    return null;
  }
  arg.chunk = out;
  return arg;
}

/** What body_filter may leave in ngx.arg[1]: text, bytes, a number, nil (nothing) or an array of those, as ngx.print takes. */
function chunkOf(v: unknown): Chunk | undefined {
  if (typeof v === 'string' || v instanceof Uint8Array) return v;
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return formatNumber(v);
  if (Array.isArray(v)) {
    const parts: Chunk[] = [];
    try {
      pushPrintable(parts, v as Printable[], 'body_filter');
    } catch {
      return undefined;
    }
    return joinChunks(parts);
  }
  return undefined;
}

/**
 * Runs body_filter over output, one call per chunk (one chunk per ngx.say / ngx.print call, as
 * nginx calls it), then, by `end`: one more call with "" and eof = true (`eof`: the body ends),
 * one with "" (`flush`), or none (`none`); with `last` the last chunk itself carries eof (nginx's
 * pages, a whole buffered body). Returns the chunks to send, or null to abort the response. A
 * filter that sets eof (ngx.arg[2] = true) ends the body there: s.bodyEnded, later output is dropped.
 */
export function filterOutput(s: RequestState, chunks: readonly Chunk[], end: 'eof' | 'last' | 'flush' | 'none'): Chunk[] | null {
  if (s.location.bodyFilter === undefined || s.status === 204 || s.status === 304) {
    if (end === 'eof' || end === 'last') s.bodyEnded = true;
    return chunks.slice();
  }
  const out: Chunk[] = [];
  const pass = (chunk: Chunk, eof: boolean): boolean => {
    const arg = runBodyFilter(s, chunk, eof);
    if (arg === null) return false;
    if (chunkLength(arg.chunk) > 0) out.push(arg.chunk);
    if (arg.eof) s.bodyEnded = true;
    return true;
  };
  const lastCarriesEof = end === 'last' && chunks.length > 0;
  for (let i = 0; i < chunks.length; i++) {
    if (s.bodyEnded) return out;
    if (!pass(chunks[i] as Chunk, lastCarriesEof && i === chunks.length - 1)) return null;
  }
  if (s.bodyEnded || end === 'none') return out;
  return pass('', end !== 'flush') ? out : null;
}

/** Runs a filter from inside another phase (ngx.flush in content) and comes back to that phase. */
/**
 * Runs a filter; true when the filter itself failed. A request that failed before (its 500 page
 * being filtered) stays failed, and its page goes out, as nginx sends its special response through
 * the filters.
 */
function nested(s: RequestState, phase: 'headerFilter' | 'bodyFilter', filter: CompiledHandler): boolean {
  const outer = s.phase;
  const failedBefore = s.failed;
  s.failed = false;
  runHandler(s, phase, filter);
  s.phase = outer;
  const failed = s.failed;
  s.failed = failed || failedBefore;
  return failed;
}
