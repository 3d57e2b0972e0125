// Phases around a response someone else produces (a framework's route): rewrite/access before
// it, header_filter/body_filter on it, log after it, with the same ngx API and rules.

import { joinChunks } from '../text/format.js';
import type { CompiledHandler } from '../engine/script-runtime.js';
import type { Chunk, HeaderValue, Ngx } from '../ngx/types.js';
import { responseHeaders } from '../ngx/request.js';
import { abortResponse, runBodyFilter, runHeaderFilter } from './output.js';
import { runHandler } from './pipeline.js';
import type { CompiledLocation, RequestState } from '../request/state.js';
import { defaultPage } from '../text/status.js';

/** What a session's rewrite/access decided: answer with this instead of the route. */
export interface SessionAnswer {
  status: number;
  headers: Record<string, HeaderValue>;
  body: Chunk;
  /** Close the connection without a response (ngx.exit(ngx.ERROR), 444). */
  abort: boolean;
}

/** A response after header_filter and body_filter; null when a filter aborted it. */
export interface FilteredResponse {
  status: number;
  headers: Record<string, HeaderValue>;
  body: Chunk;
}

/** The phase handlers of one route: compiled when the route is registered, again after a reload. */
export interface RouteHandlers {
  readonly name: string;
  /** Compiled handlers per engine generation (a reload brings fresh script runtimes). */
  readonly compiled: Map<number, CompiledLocation>;
}

export class PhaseSession {
  readonly #s: RequestState;
  readonly #done: () => void;
  #closed = false;

  constructor(state: RequestState, done: () => void) {
    this.#s = state;
    this.#done = done;
  }

  /** The request's `ngx` (the framework's own handler may use it too). */
  get ngx(): Ngx {
    return this.#s.ngx;
  }

  /**
   * Runs rewrite or access. Resolves undefined when the request goes on to the route, or
   * with the answer when the handler ended it (exit with a status, redirect, output, error).
   */
  async run(phase: 'rewrite' | 'access'): Promise<SessionAnswer | undefined> {
    const s = this.#s;
    const handler = s.location[phase];
    if (handler === undefined) return undefined;
    await runHandler(s, phase, handler);
    if (s.exec !== undefined) {
      s.exec = undefined;
      s.failed = true;
      s.engine.log('error', `ngx.exec is not available in a framework route's ${phase} phase`, s);
    }
    const code = s.exitCode;
    if (!s.failed && !s.headersSent && (code === undefined || code === 0 || code === -5)) {
      s.exitCode = undefined;
      return undefined;
    }
    const headers = responseHeaders(s);
    if (s.failed) {
      return { status: 500, headers: { 'Content-Type': 'text/html' }, body: defaultPage(500) as string, abort: s.headersSent };
    }
    if (code !== undefined && (code < 100 || code === 444 || code === 499 || code === 408)) {
      return { status: 0, headers: {}, body: '', abort: true };
    }
    if (s.headersSent) {
      if (s.status === 0) s.status = 200;
      if (!headers.has('content-type')) headers.setOwn('content-type', 'Content-Type', s.location.defaultType);
      return { status: s.status, headers: headers.toOutgoing(), body: joinChunks(s.out), abort: false };
    }
    const status = code as number;
    const page = status >= 300 ? defaultPage(status) : undefined;
    if (page !== undefined) headers.set('Content-Type', 'text/html');
    else if (!headers.has('content-type')) headers.setOwn('content-type', 'Content-Type', s.location.defaultType);
    return { status: s.status !== 0 && status < 300 ? s.status : status, headers: headers.toOutgoing(), body: page ?? '', abort: false };
  }

  /** header_filter then body_filter (once, eof = true) over the route's response. */
  filter(status: number, headers: Record<string, HeaderValue | number | undefined>, body: Chunk): FilteredResponse | null {
    const s = this.#s;
    s.status = status;
    s.exitCode = undefined;
    s.out.length = 0;
    const h = responseHeaders(s);
    h.clear();
    for (const [k, v] of Object.entries(headers)) if (v !== undefined) h.set(k, v);
    s.headersSent = true;
    let out = body;
    const replaced = runHeaderFilter(s, h);
    if (replaced === null) {
      abortResponse(s);
      return null;
    }
    if (replaced !== undefined) out = replaced;
    const filtered = runBodyFilter(s, out, true);
    if (filtered === null) {
      abortResponse(s);
      return null;
    }
    if (s.location.bodyFilter !== undefined) h.delete('Content-Length');
    return { status: s.status, headers: h.toRecord(0, true), body: filtered.chunk };
  }

  /** Runs log with the final status (may be async; never throws), then ends the session. */
  async log(status?: number): Promise<void> {
    const s = this.#s;
    if (this.#closed) return;
    if (status !== undefined) s.status = status;
    s.endTime = s.engine.clock.now();
    const handler: CompiledHandler | undefined = s.location.log;
    try {
      if (handler !== undefined) await runHandler(s, 'log', handler);
    } finally {
      this.close();
    }
  }

  /** Ends the session without a log phase (the request was abandoned). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#done();
  }
}
