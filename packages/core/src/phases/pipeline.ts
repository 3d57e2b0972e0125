// One request's walk through the phases: the state machine, and the one runner every phase uses.

import { unlink } from 'node:fs/promises';
import { NGX_CONSTANTS } from '../ngx/constants.js';
import { channels } from '../events.js';
import { BodyTooLargeError } from '../http/exchange.js';
import { HandlerError, NoLocationError, RedirectCycleError } from '../errors.js';
import { chunkLength, joinChunks } from '../text/format.js';
import type { CompiledHandler } from '../engine/script-runtime.js';
import { normalizeUri } from '../http/location.js';
import type { Chunk } from '../ngx/types.js';
import { responseHeaders } from '../ngx/request.js';
import type { Phase } from './facts.js';
import {
  STEP_ACCESS, STEP_CONTENT, STEP_DONE, STEP_LOG, STEP_RESPOND, STEP_REWRITE, STEP_SET,
  type RequestState,
} from '../request/state.js';
import { runProxy } from '../upstream/proxy.js';
import { abortResponse, defaultHeaders, runBodyFilter, runHeaderFilter, sendEof } from './output.js';
import { CLOSE_STATUSES, defaultPage } from '../text/status.js';
import { initVars, interpolate, writeVar } from '../request/vars.js';

const { OK, ERROR, DECLINED } = NGX_CONSTANTS;

type Pending = PromiseLike<unknown> | undefined;

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

/** Which phases may not wait: a handler there that returns a promise is an error. */
const NO_YIELD = new Set<Phase>(['set', 'headerFilter', 'bodyFilter', 'balancer']);

/**
 * The one phase runner: calls `handler` in `phase`, records a throw or rejection as the
 * request's failure, and returns a promise only when the handler was async.
 */
export function runHandler(s: RequestState, phase: Phase, handler: CompiledHandler): Pending {
  s.phase = phase;
  if (s.tracePhases) emitPhase(s, 'phase:start');
  let result: unknown;
  try {
    result = handler(s.ngx);
  } catch (err) {
    handlerFailed(s, phase, err);
    return undefined;
  }
  if (isThenable(result)) {
    if (NO_YIELD.has(phase)) {
      handlerFailed(s, phase, new Error(`attempt to yield in ${phase} handler: it must not be async`));
      return undefined;
    }
    return result.then(
      (value) => {
        s.result = value;
        phaseEnd(s);
      },
      (err: unknown) => handlerFailed(s, phase, err),
    );
  }
  s.result = result;
  phaseEnd(s);
  return undefined;
}

function phaseEnd(s: RequestState): void {
  if (s.tracePhases) emitPhase(s, 'phase:end');
}

/** Whether anyone listens to phase events; asked once per request, not once per phase. */
export function phasesObserved(s: RequestState): boolean {
  const events = s.engine.events;
  return events.listenerCount('phase:start') > 0 || events.listenerCount('phase:end') > 0 ||
    channels['phase:start'].hasSubscribers || channels['phase:end'].hasSubscribers;
}

function emitPhase(s: RequestState, event: 'phase:start' | 'phase:end'): void {
  const info = { id: s.id, phase: s.phase, location: s.location.name };
  s.engine.events.emit(event, info);
  if (channels[event].hasSubscribers) channels[event].publish(info);
}

function handlerFailed(s: RequestState, phase: Phase, err: unknown): void {
  s.failed = true;
  if (err instanceof BodyTooLargeError || s.bodyTooLarge !== undefined) {
    s.exitCode = 413;
    s.failed = false;
    s.engine.log('error', (s.bodyTooLarge ?? (err as Error)).message, s);
    return;
  }
  const where = s.id === 0 ? `${phase} handler` : `${phase} handler of location "${s.location.name}"`;
  const wrapped = new HandlerError(phase, where, err);
  const stack = err instanceof Error && err.stack ? `\n${err.stack}` : '';
  s.engine.log('error', `${wrapped.message}${stack}`, s, wrapped);
  s.exchange.handlerFailed?.(wrapped);
  const info = { id: s.id, phase, location: s.location.name, error: err };
  s.engine.events.emit('handler:error', info);
  if (channels['handler:error'].hasSubscribers) channels['handler:error'].publish(info);
}

/** Walks the request forward until it is done or waits on a promise. */
export function advance(s: RequestState): void {
  while (s.step !== STEP_DONE) {
    let pending: Pending;
    try {
      pending = runStep(s);
      if (pending === undefined) settle(s);
    } catch (err) {
      internalFailure(s, err);
      continue;
    }
    if (pending !== undefined) {
      pending.then(
        () => resume(s),
        (err: unknown) => {
          handlerFailed(s, s.phase, err);
          resume(s);
        },
      );
      return;
    }
  }
}

function resume(s: RequestState): void {
  try {
    settle(s);
  } catch (err) {
    internalFailure(s, err);
  }
  advance(s);
}

/**
 * Something outside the handlers failed (the host refused a header or status, a bug): the
 * request is not left half-done. The connection closes and the log phase still runs.
 */
function internalFailure(s: RequestState, err: unknown): void {
  s.engine.log('error', `request failed: ${err instanceof Error ? err.message : String(err)}`, s, err);
  if (s.step >= STEP_LOG) {
    s.step = STEP_DONE;
    s.engine.requestDone(s);
    return;
  }
  s.failed = true;
  if (s.status === 0) s.status = 500;
  abortResponse(s);
  s.step = STEP_LOG;
}

function runStep(s: RequestState): Pending {
  const loc = s.location;
  switch (s.step) {
    case STEP_SET:
      for (const set of loc.set) {
        s.setArgs = set.args.map((t) => interpolate(s, t));
        const args = s.setArgs;
        const pending = runHandler(s, 'set', (ngx) => {
          const value = set.fn(ngx, ...args);
          writeVar(s, set.var, value);
        });
        s.setArgs = undefined;
        if (pending !== undefined || s.failed) return pending;
      }
      return undefined;
    case STEP_REWRITE:
      return loc.rewrite && runHandler(s, 'rewrite', loc.rewrite);
    case STEP_ACCESS:
      // Subrequests skip the access phase, as nginx does.
      return s.parent === undefined ? loc.access && runHandler(s, 'access', loc.access) : undefined;
    case STEP_CONTENT:
      if (loc.proxy !== undefined) return runProxy(s).catch((err: unknown) => handlerFailed(s, 'content', err));
      return loc.content && runHandler(s, 'content', loc.content);
    case STEP_RESPOND:
      return respond(s);
    case STEP_LOG:
      // ... and the log phase.
      if (loc.log === undefined || s.parent !== undefined) return undefined;
      s.endTime = s.engine.clock.now();
      return runHandler(s, 'log', loc.log);
    default:
      return undefined;
  }
}

/** Decides the next step from what the last handler did: fail, exec, exit, or go on. */
function settle(s: RequestState): void {
  const step = s.step;
  if (step >= STEP_RESPOND) {
    if (step === STEP_LOG) finish(s);
    s.step = step + 1;
    return;
  }
  if (s.failed) {
    s.step = STEP_RESPOND;
    return;
  }
  if (s.exec !== undefined) {
    internalRedirect(s);
    return;
  }
  const code = s.exitCode;
  if (code !== undefined) {
    if (step !== STEP_CONTENT && step !== STEP_SET && (code === OK || code === DECLINED)) {
      s.exitCode = undefined;
    } else {
      s.step = STEP_RESPOND;
      return;
    }
  }
  if (s.headersSent) {
    // A response started in rewrite/access is finalized when that handler returns.
    s.step = STEP_RESPOND;
    return;
  }
  if (step === STEP_CONTENT && s.location.content === undefined && s.location.proxy === undefined) {
    // No content handler: nginx's static module finds no file.
    s.exitCode = 404;
  }
  s.step = step + 1;
}

function internalRedirect(s: RequestState): void {
  const target = s.exec as NonNullable<RequestState['exec']>;
  s.exec = undefined;
  if (++s.redirects > s.engine.maxRedirects) {
    redirectFailed(s, new RedirectCycleError(target.uri));
    return;
  }
  const table = s.gen.locations;
  if (target.named) {
    const loc = table.named(target.uri);
    if (loc === undefined) {
      redirectFailed(s, new NoLocationError(target.uri));
      return;
    }
    s.location = loc;
    s.captures = undefined;
  } else {
    const uri = normalizeUri(target.uri) ?? target.uri;
    s.uri = uri;
    const found = table.find(uri);
    if (found === undefined) {
      s.exitCode = 404;
      s.step = STEP_RESPOND;
      return;
    }
    s.location = found.location;
    s.captures = found.captures;
  }
  if (!target.named && target.resetCtx) s.args = target.args ?? '';
  if (target.resetCtx) s.ctx = undefined;
  s.exitCode = undefined;
  s.out.length = 0;
  initVars(s);
  s.step = STEP_SET;
}

/**
 * Decides the response from what the handlers did, as nginx + lua-nginx-module would:
 * `{ status, body, page }`, or undefined when the connection is to be closed unanswered.
 */
function decide(s: RequestState): { body: Chunk | undefined; page: boolean } | undefined {
  const code = s.exitCode;
  if (s.headersSent) {
    // Output was produced: its status stands (OpenResty sent the headers at the first say).
    if (s.failed || code === ERROR || (code !== undefined && CLOSE_STATUSES.has(code))) {
      if (s.status === 0) s.status = 200;
      return undefined;
    }
    if (s.status === 0) s.status = 200;
    if (code !== undefined && code >= 300 && code !== s.status) {
      s.engine.log('error', `attempt to set status ${code} via ngx.exit after sending out the response status ${s.status}`, s);
    }
    return { body: joinChunks(s.out), page: false };
  }
  if (s.failed) {
    s.status = 500;
    return { body: defaultPage(500), page: true };
  }
  if (code === undefined || code === OK) {
    if (s.status === 0) s.status = 200;
    return { body: undefined, page: false };
  }
  if (code < 100 || CLOSE_STATUSES.has(code)) {
    // ERROR, DECLINED (in content), 1..99, 408, 444, 499: nginx closes the connection.
    s.status = CLOSE_STATUSES.has(code) ? code : 0;
    return undefined;
  }
  if (code < 300) {
    if (s.status === 0) s.status = code;
    return { body: undefined, page: false };
  }
  s.status = code;
  const page = defaultPage(code);
  return { body: page, page: page !== undefined };
}

/** An internal redirect that cannot happen: logged without a stack (nginx prints none), then 500. */
function redirectFailed(s: RequestState, err: Error): void {
  s.failed = true;
  s.engine.log('error', err.message, s, err);
  s.step = STEP_RESPOND;
}

/**
 * Builds the response and hands it to the exchange. The usual case is one write with a
 * Content-Length: header_filter, body_filter over the whole body, respond(). When the headers
 * went out early (ngx.flush), the rest of the body is streamed instead.
 */
function respond(s: RequestState): Pending {
  if (s.streaming) return finishStream(s);
  const decided = decide(s);
  s.out.length = 0;
  if (decided === undefined) {
    abortResponse(s);
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

function finish(s: RequestState): void {
  for (const rt of s.gen.runtimes) rt.requestDone?.(s.ngx);
  if (s.bodyFile !== undefined) unlink(s.bodyFile).catch(() => undefined);
  if (s.onDone !== undefined) {
    s.onDone();
    return;
  }
  s.engine.requestDone(s);
  const events = s.engine.events;
  if (events.listenerCount('request:end') > 0 || channels['request:end'].hasSubscribers) {
    if (s.endTime === 0) s.endTime = s.engine.clock.now();
    const info = {
      id: s.id, method: s.method, uri: s.uri, location: s.location.name, status: s.status,
      requestTime: (s.endTime - s.start) / 1000,
    };
    events.emit('request:end', info);
    if (channels['request:end'].hasSubscribers) channels['request:end'].publish(info);
  }
}
