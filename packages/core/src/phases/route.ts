// Phases around a response someone else produces (a framework's route): rewrite/access before
// it, header_filter/body_filter on it, log after it. The host drives the request one step at a
// time; every decision is the state machine's (settle, decide), the same as for a main request.

import type { Chunk, HeaderValue, Ngx } from '../ngx/types.js';
import { joinChunks } from '../text/format.js';
import { closeRequest } from '../request/lifecycle.js';
import { responseHeaders, STEP_ACCESS, STEP_LOG, STEP_RESPOND, STEP_REWRITE, type CompiledLocation, type RequestState } from '../request/state.js';
import { decide } from './decide.js';
import { defaultHeaders, runBodyFilter, runHeaderFilter } from './filters.js';
import { runStep, settle } from './pipeline.js';
import { abortResponse } from './respond.js';

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

  /** Made by `engine.session()`, which opens the request. */
  constructor(state: RequestState) {
    this.#s = state;
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
    if (s.closed || s.step === STEP_RESPOND) return undefined;
    s.step = phase === 'rewrite' ? STEP_REWRITE : STEP_ACCESS;
    await runStep(s);
    if (s.exec !== undefined) {
      s.exec = undefined;
      s.failed = true;
      s.engine.log('error', `ngx.exec is not available in a framework route's ${phase} phase`, s);
    }
    settle(s);
    if (s.step !== STEP_RESPOND) return undefined;
    const decided = decide(s);
    const body = decided?.output === true ? joinChunks(s.out.length > 0 ? s.out : ['']) : (decided?.body ?? '');
    s.out.length = 0;
    if (decided === undefined) return { status: 0, headers: {}, body: '', abort: true };
    const headers = responseHeaders(s);
    defaultHeaders(s, headers, decided.page, decided.output);
    // The answer goes out through the framework, whose send hook runs the filters (filter()).
    return { status: s.status, headers: headers.toOutgoing(), body, abort: false };
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
    // The framework frames the filtered body itself.
    if (s.location.bodyFilter !== undefined) h.drop('Content-Length');
    return { status: s.status, headers: h.toRecord(0, true), body: filtered.chunk };
  }

  /** Runs log with the final status (may be async; never throws), then closes the request. */
  async log(status?: number): Promise<void> {
    const s = this.#s;
    if (s.closed) return;
    if (status !== undefined) s.status = status;
    s.step = STEP_LOG;
    try {
      await runStep(s);
    } finally {
      closeRequest(s);
    }
  }

  /** Closes the request without a log phase (it was abandoned). */
  close(): void {
    closeRequest(this.#s);
  }
}
