// Sending the response: in one write with a Content-Length, or streamed (ngx.flush / ngx.eof /
// ngx.send_headers). Either way header_filter runs once before the headers, and body_filter once
// per output call (ngx.say, ngx.print), once per flush with "", and once more with "" and eof.

import type { Chunk } from '../ngx/types.js';
import { responseHeaders, type RequestState } from '../request/state.js';
import { chunkLength, joinChunks } from '../text/format.js';
import { defaultPage } from '../text/status.js';
import { decide, type Decision } from './decide.js';
import { defaultHeaders, filterOutput, runHeaderFilter } from './filters.js';
import type { Pending } from './run.js';

/**
 * Builds the response and hands it to the exchange. The usual case is one write: header_filter,
 * body_filter over each chunk, then a Content-Length counting what the filters left. When the
 * headers went out early (ngx.flush), the rest of the body is streamed instead.
 */
export function respond(s: RequestState): Pending {
  if (s.streaming) return finishStream(s);
  const decided = decide(s);
  if (decided === undefined) {
    s.out.length = 0;
    abortResponse(s);
    return undefined;
  }
  if (s.failed && decided.page && s.error !== undefined && s.exchange.answerFailure?.(s.error) === true) {
    // The host answers the failure itself (Express's error middleware); the engine sends nothing.
    s.out.length = 0;
    s.headersSent = true;
    s.eofSent = true;
    return undefined;
  }
  const loc = s.location;
  const buffer = loc.bodyFilterBuffer;
  if (buffer !== undefined && decided.output) {
    // bodyFilterBuffer: body_filter gets the whole output once, with eof, up to maxBytes.
    const whole = joinChunks(s.out.length > 0 ? s.out : ['']);
    s.out.length = 0;
    if (chunkLength(whole) > buffer.maxBytes) {
      s.engine.log('error', `response body of ${chunkLength(whole)} bytes is over bodyFilterBuffer.maxBytes (${buffer.maxBytes}) of location "${loc.name}"`, s);
      s.status = 500;
      responseHeaders(s).clear();
      return sendWhole(s, { body: defaultPage(500), page: true, output: false });
    }
    return sendWhole(s, { body: whole, page: false, output: false });
  }
  return sendWhole(s, decided);
}

function sendWhole(s: RequestState, decided: Decision): Pending {
  const headers = responseHeaders(s);
  defaultHeaders(s, headers, decided.page, decided.output);
  s.headersSent = true;
  const replaced = runHeaderFilter(s, headers);
  if (replaced === null) {
    abortResponse(s);
    return undefined;
  }
  const status = s.status;
  const noBody = status === 204 || status === 304 || status < 200;
  let out: Chunk[] | null = [];
  if (!noBody) {
    // Output: one call per output call, then "" with eof. A page (or a whole buffered body): one call with eof.
    if (replaced !== undefined) out = filterOutput(s, [replaced], 'last');
    else if (decided.output) out = filterOutput(s, s.out, 'eof');
    else out = filterOutput(s, decided.body === undefined ? [] : [decided.body], 'last');
  }
  s.out.length = 0;
  if (out === null) {
    abortResponse(s);
    return undefined;
  }
  const body = out.length === 0 ? undefined : joinChunks(out);
  const length = body === undefined ? 0 : chunkLength(body);
  // phasekit owns the framing: the length of what goes out, or chunked when a handler cleared it
  // (a HEAD response keeps the length a handler announced for its GET).
  if (noBody) {
    headers.drop('Content-Length');
    // ngx.exit(304) answers "Content-Length: 0", as nginx's special response does
    if (status === 304 && !decided.output) headers.setOwn('content-length', 'Content-Length', '0');
  }
  else if (s.kind !== 'subrequest' && !(s.method === 'HEAD' && headers.has('content-length')) && !headers.wasCleared('content-length')) {
    // (a subrequest's answer is read in memory: no framing, its headers as the handlers left them)
    headers.setOwn('content-length', 'Content-Length', String(length));
  }
  let send = s.method === 'HEAD' || noBody || length === 0 ? null : (body as Chunk);
  if (headers.wide && typeof send === 'string') send = Buffer.from(send);
  s.bodyBytesSent = send === null ? 0 : length;
  s.bytesSent = s.bodyBytesSent;
  s.bodyEnded = true;
  s.exchange.respond(status, headers.toOutgoing(), send);
  return undefined;
}

/** The headers went out early: the rest of the output goes out, then the end; the log phase waits for it. */
function finishStream(s: RequestState): Pending {
  if (!s.eofSent) {
    const decided = decide(s);
    if (decided === undefined) {
      s.out.length = 0;
      abortResponse(s);
      return undefined;
    }
    if (!decided.output && decided.body !== undefined) s.out.push(decided.body);
    sendEof(s);
  }
  return s.finished;
}

/**
 * Sends the headers now (ngx.send_headers, the first ngx.flush): status, header_filter, writeHead.
 * A Content-Length a handler set stays (the body must then match it, see endResponse) unless a
 * body_filter may change the body (lua-nginx-module clears it then) or `keepLength` is false.
 */
export function sendHeaders(s: RequestState, keepLength = s.location.bodyFilter === undefined): boolean {
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
  if (!keepLength || replaced !== undefined) headers.drop('Content-Length');
  const declared = headers.get('content-length');
  s.declaredLength = typeof declared === 'string' ? Number(declared) : undefined;
  s.exchange.writeHead(s.status, headers.toOutgoing());
  if (replaced !== undefined) {
    const out = filterOutput(s, [replaced], 'last');
    if (out === null) {
      abortResponse(s);
      return false;
    }
    if (s.method !== 'HEAD') for (const chunk of out) writeRaw(s, chunk);
    s.bodyEnded = true;
    endResponse(s);
  }
  return true;
}

/**
 * ngx.flush: sends what is buffered, each output call through body_filter, then body_filter once
 * with "" for the flush itself. Resolves (with wait) when the client took it. With no output yet
 * it does nothing (nginx: "nothing to flush"; the status may still change). `marker` false: an
 * upstream's chunk, relayed without the flush call.
 */
export function flushOutput(s: RequestState, wait: boolean, marker = true): Promise<void> | undefined {
  if (s.eofSent || s.location.bodyFilterBuffer !== undefined) return undefined;
  if (!s.streaming && s.out.length === 0 && marker) return undefined;
  if (!s.streaming && !sendHeaders(s)) return undefined;
  if (s.eofSent) return undefined;
  if (s.out.length === 0 && !s.bodyEnded) s.exchange.flushHeaders?.();
  const out = filterOutput(s, s.out, marker ? 'flush' : 'none');
  s.out.length = 0;
  if (out === null) {
    abortResponse(s);
    return undefined;
  }
  let flowing = true;
  if (s.method !== 'HEAD') for (const chunk of out) flowing = writeRaw(s, chunk) && flowing;
  if (s.bodyEnded) {
    // body_filter set eof: the rest of the body is discarded.
    endResponse(s);
    return undefined;
  }
  // Only a client that is behind is waited for.
  return wait && !flowing ? s.exchange.drained() : undefined;
}

/** ngx.eof: the last output goes out (each call through body_filter, then "" with eof = true) and the response ends. */
export function sendEof(s: RequestState): void {
  if (s.eofSent) return;
  if (!s.streaming && !sendHeaders(s)) return;
  if (s.eofSent) return;
  const out = s.bodyEnded ? [] : filterOutput(s, s.out, 'eof');
  s.out.length = 0;
  if (out === null) {
    abortResponse(s);
    return;
  }
  if (s.method !== 'HEAD') for (const chunk of out) writeRaw(s, chunk);
  s.bodyEnded = true;
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

/**
 * Ends the streamed body; the log phase waits for `s.finished`. A body that does not match the
 * Content-Length a handler announced closes the connection instead: the next request on it would
 * be read from the middle of this one.
 */
export function endResponse(s: RequestState): void {
  if (s.eofSent) return;
  s.eofSent = true;
  if (s.declaredLength !== undefined && s.method !== 'HEAD' && s.declaredLength !== s.bodyBytesSent) {
    s.engine.log('error', `response body of ${s.bodyBytesSent} bytes does not match its Content-Length ${s.declaredLength}: connection closed`, s);
    s.exchange.abort();
    s.finished = Promise.resolve();
    return;
  }
  s.finished = new Promise<void>((resolve) => s.exchange.end(() => resolve()));
}

export function abortResponse(s: RequestState): void {
  s.headersSent = true;
  s.eofSent = true;
  s.exchange.abort();
}
