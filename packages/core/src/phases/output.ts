// Streaming output: ngx.flush / ngx.eof / ngx.send_headers send headers and chunks before the
// handler ends; header_filter runs once before the headers, body_filter on every chunk.

import { NGX_CONSTANTS } from '../ngx/constants.js';
import { chunkLength, joinChunks } from '../text/format.js';
import type { ResponseHeaders } from '../http/headers.js';
import type { BodyFilterArg, Chunk } from '../ngx/types.js';
import { responseHeaders } from '../ngx/request.js';
import { runHandler } from './pipeline.js';
import type { RequestState } from '../request/state.js';
import { defaultPage, reasonPhrase } from '../text/status.js';

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
  nested(s, 'headerFilter', filter);
  if (s.failed) return null;
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
  nested(s, 'bodyFilter', filter);
  s.arg = undefined;
  if (s.failed || s.result === NGX_CONSTANTS.ERROR) return null;
  if (arg.chunk === null || arg.chunk === undefined) arg.chunk = '';
  return arg;
}

/** Runs a filter from inside another phase (ngx.flush in content) and comes back to that phase. */
function nested(s: RequestState, phase: 'headerFilter' | 'bodyFilter', filter: NonNullable<RequestState['location']['bodyFilter']>): void {
  const outer = s.phase;
  runHandler(s, phase, filter);
  s.phase = outer;
}

/** Sends the headers now (ngx.send_headers, the first ngx.flush): status, header_filter, writeHead. */
export function sendHeaders(s: RequestState, keepLength = false): boolean {
  if (s.streaming) return true;
  if (s.status === 0) s.status = 200;
  s.headersSent = true;
  s.streaming = true;
  const headers = responseHeaders(s);
  defaultHeaders(s, headers, false);
  const replaced = runHeaderFilter(s, headers);
  if (replaced === null) {
    abortResponse(s);
    return false;
  }
  // The body length is unknown while streaming: chunked, whatever a handler set (a proxied
  // response without a body_filter keeps its upstream length).
  if (!keepLength) headers.delete('Content-Length');
  s.exchange.writeHead(s.status, headers.toOutgoing());
  if (replaced !== undefined) {
    if (replaced !== '' && s.method !== 'HEAD') writeRaw(s, replaced);
    endResponse(s);
  }
  return true;
}

/** ngx.flush: sends what is buffered as one chunk. Resolves (with wait) when the client took it. */
export function flushOutput(s: RequestState, wait: boolean): Promise<void> | undefined {
  if (s.eofSent || s.location.bodyFilterBuffer !== undefined) return undefined;
  if (!s.streaming && !sendHeaders(s)) return undefined;
  if (s.eofSent) return undefined;
  if (s.out.length === 0) s.exchange.flushHeaders?.();
  if (s.out.length > 0) {
    const chunk = joinChunks(s.out);
    s.out.length = 0;
    const filtered = runBodyFilter(s, chunk, false);
    if (filtered === null) {
      abortResponse(s);
      return undefined;
    }
    const flowing = s.method === 'HEAD' || writeRaw(s, filtered.chunk);
    if (filtered.eof) {
      // body_filter set eof: the rest of the body is discarded.
      endResponse(s);
      return undefined;
    }
    // Only a client that is behind is waited for.
    return wait && !flowing ? s.exchange.drained() : undefined;
  }
  return undefined;
}

/** ngx.eof: the last chunk goes out (through body_filter with eof = true) and the response ends. */
export function sendEof(s: RequestState): void {
  if (s.eofSent) return;
  if (!s.streaming && !sendHeaders(s)) return;
  if (s.eofSent) return;
  const chunk = joinChunks(s.out.length > 0 ? s.out : ['']);
  s.out.length = 0;
  const filtered = runBodyFilter(s, chunk, true);
  if (filtered === null) {
    abortResponse(s);
    return;
  }
  if (s.method !== 'HEAD' && chunkLength(filtered.chunk) > 0) writeRaw(s, filtered.chunk);
  endResponse(s);
}

/** Writes a chunk; false when the client is behind (wait for drained()). */
function writeRaw(s: RequestState, chunk: Chunk): boolean {
  const n = chunkLength(chunk);
  if (n === 0) return true;
  s.bodyBytesSent += n;
  s.bytesSent += n;
  // Headers with UTF-8 bytes go out with the first chunk: a string chunk would re-encode them.
  return s.exchange.write(s.headers?.wide === true && typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
}

/** Ends the streamed body; the log phase waits for `s.finished`. */
export function endResponse(s: RequestState): void {
  if (s.eofSent) return;
  s.eofSent = true;
  s.finished = new Promise<void>((resolve) => s.exchange.end(() => resolve()));
}

export function abortResponse(s: RequestState): void {
  s.headersSent = true;
  s.eofSent = true;
  s.exchange.abort();
}
