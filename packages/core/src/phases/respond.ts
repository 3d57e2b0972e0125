// Sending the response: in one write with a Content-Length, or streamed (ngx.flush / ngx.eof /
// ngx.send_headers) with header_filter once before the headers and body_filter on every chunk.

import { chunkLength, joinChunks } from '../text/format.js';
import type { Chunk } from '../ngx/types.js';
import { responseHeaders, type RequestState } from '../request/state.js';
import { defaultPage } from '../text/status.js';
import { decide } from './decide.js';
import { applyErrorPageStatus, errorPageTurn } from './error-page.js';
import { defaultHeaders, runBodyFilter, runHeaderFilter } from './filters.js';
import type { Pending } from './run.js';

/**
 * Builds the response and hands it to the exchange. The usual case is one write with a
 * Content-Length: header_filter, body_filter over the whole body, respond(). When the headers
 * went out early (ngx.flush), the rest of the body is streamed instead.
 */
export function respond(s: RequestState): Pending {
  if (s.streaming) return finishStream(s);
  let decided = decide(s);
  if (decided?.page === true) {
    const turn = errorPageTurn(s);
    if (turn === 'exec') return undefined;
    if (turn === 'again') decided = decide(s);
  }
  s.out.length = 0;
  if (decided === undefined) {
    abortResponse(s);
    return undefined;
  }
  if (s.failed && decided.page && s.error !== undefined && s.exchange.answerFailure?.(s.error) === true) {
    // The host answers the failure itself (Express's error middleware); the engine sends nothing.
    s.headersSent = true;
    s.eofSent = true;
    return undefined;
  }
  let body = decided.body;
  const loc = s.location;
  const buffer = loc.bodyFilterBuffer;
  if (buffer !== undefined && body !== undefined && chunkLength(body) > buffer.maxBytes) {
    s.engine.log('error', `response body of ${chunkLength(body)} bytes is over bodyFilterBuffer.maxBytes (${buffer.maxBytes}) of location "${loc.name}"`, s);
    s.status = 500;
    body = defaultPage(500);
    responseHeaders(s).clear();
    return sendWhole(s, body, true);
  }
  return sendWhole(s, body, decided.page);
}

function sendWhole(s: RequestState, page: Chunk | undefined, isPage: boolean): Pending {
  let body = page;
  const headers = responseHeaders(s);
  applyErrorPageStatus(s);
  defaultHeaders(s, headers, isPage);
  s.headersSent = true;
  const replaced = runHeaderFilter(s, headers);
  if (replaced === null) {
    abortResponse(s);
    return undefined;
  }
  if (replaced !== undefined) body = replaced;
  const status = s.status;
  if (status !== 204 && status !== 304) {
    const filtered = runBodyFilter(s, body ?? '', true);
    if (filtered === null) {
      abortResponse(s);
      return undefined;
    }
    body = filtered.chunk;
  }
  const noBody = status === 204 || status === 304 || status < 200;
  const length = body === undefined || noBody ? 0 : chunkLength(body);
  if (!noBody && !headers.has('content-length')) headers.setOwn('content-length', 'Content-Length', String(length));
  let send = s.method === 'HEAD' || noBody || length === 0 ? null : (body as Chunk);
  if (headers.wide && typeof send === 'string') send = Buffer.from(send);
  s.bodyBytesSent = send === null ? 0 : length;
  s.bytesSent = s.bodyBytesSent;
  s.exchange.respond(status, headers.toOutgoing(), send);
  return undefined;
}

/** The headers went out early: the rest of the output is the last chunk; the log phase waits for the end. */
function finishStream(s: RequestState): Pending {
  if (!s.eofSent) {
    const decided = decide(s);
    if (decided === undefined) {
      abortResponse(s);
      return undefined;
    }
    s.out.length = 0;
    if (decided.body !== undefined) s.out.push(decided.body);
    sendEof(s);
  }
  return s.finished;
}

/** Sends the headers now (ngx.send_headers, the first ngx.flush): status, header_filter, writeHead. */
export function sendHeaders(s: RequestState, keepLength = false): boolean {
  if (s.streaming) return true;
  if (s.status === 0) s.status = 200;
  applyErrorPageStatus(s);
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
