// One handler, one phase, a fabricated request: what @phasekit/testing's runPhase stands on.

import type { HttpExchange } from '../http/exchange.js';
import { joinChunks } from '../text/format.js';
import type { CompiledHandler, CompiledSetHandler } from '../engine/script-runtime.js';
import type { BodyFilterArg, Chunk, HeaderValue } from '../ngx/types.js';
import { closeRequest } from '../request/lifecycle.js';
import { responseHeaders, STEP_ACCESS, STEP_CONTENT, STEP_LOG, STEP_RESPOND, STEP_REWRITE, type CompiledLocation, type RequestState } from '../request/state.js';
import { writeVar } from '../request/vars.js';
import { decide } from './decide.js';
import type { Phase } from './facts.js';
import { runBodyFilter, runHeaderFilter } from './filters.js';
import { runStep, settle } from './pipeline.js';
import { runHandler } from './run.js';

/** The request a single phase runs against. */
export interface PhaseRequest {
  method?: string;
  /** Path with optional query: `/api?x=1`. */
  path?: string;
  headers?: Record<string, string | string[]>;
  body?: string | Uint8Array;
  remoteAddr?: string;
  httpVersion?: string;
}

/** State as earlier phases (or an upstream) would have left it. */
export interface PhasePreset {
  ctx?: Record<string, unknown>;
  /** Declared variables and their values (`vars` of a location). */
  vars?: Record<string, string>;
  /** For header_filter, body_filter and log: the response so far. */
  status?: number;
  headers?: Record<string, HeaderValue>;
  /** For body_filter: the body chunks it is called with, the last with eof = true. */
  chunks?: readonly Chunk[];
  /** For set: the handler's arguments. */
  args?: readonly string[];
}

/** What happened: enough to assert on without poking at internals. */
export interface PhaseOutcome {
  status: number;
  headers: Record<string, HeaderValue>;
  /** Output of ngx.say/print, as text. */
  body: string;
  /** ngx.exit (or redirect) was called. */
  exited: boolean;
  exitStatus: number | undefined;
  redirect: { url: string; status: number } | undefined;
  exec: { uri: string; args: string | undefined } | undefined;
  ctx: Record<string, unknown>;
  vars: Record<string, string | undefined>;
  /** body_filter: each call's output chunk and eof, after the handler ran. */
  chunks: BodyFilterArg[];
  /** set: the value it returned. */
  value: unknown;
  /** What the handler threw (it is also logged, as in a server). */
  error: unknown;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** A fabricated exchange for `request`; nothing is ever sent. */
export function fabricateExchange(request: PhaseRequest): HttpExchange {
  const rawHeaders: string[] = [];
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(request.headers ?? {})) {
    for (const v of Array.isArray(value) ? value : [value]) rawHeaders.push(name, v);
    headers[name.toLowerCase()] = value;
  }
  const body = typeof request.body === 'string' ? Buffer.from(request.body) : (request.body ?? new Uint8Array(0));
  if (request.body !== undefined && headers['content-length'] === undefined) {
    headers['content-length'] = String(body.byteLength);
    rawHeaders.push('Content-Length', String(body.byteLength));
  }
  return {
    method: request.method ?? 'GET',
    url: request.path ?? '/',
    httpVersion: request.httpVersion ?? '1.1',
    headers,
    rawHeaders,
    remoteAddress: request.remoteAddr ?? '127.0.0.1',
    remotePort: 50000,
    localAddress: '127.0.0.1',
    localPort: 80,
    secure: false,
    readBody: (limit) => (body.byteLength > limit ? Promise.reject(new Error(`client intended to send too large body: ${body.byteLength} bytes`)) : Promise.resolve(body)),
    respond: () => undefined,
    writeHead: () => undefined,
    write: () => true,
    end: (done) => done?.(false),
    drained: () => Promise.resolve(),
    abort: () => undefined,
  };
}

/** A location holding only the declared variables (the handler under test is run directly). */
export function bareLocation(name: string, vars: Record<string, string>): CompiledLocation {
  return {
    name, match: { kind: 'prefix', value: '/' }, internal: false,
    vars: new Map(Object.keys(vars).map((k) => [k.toLowerCase(), ['']] as const)), set: [],
    rewrite: undefined, access: undefined, content: undefined, headerFilter: undefined, bodyFilter: undefined, log: undefined,
    defaultType: 'text/plain',
    bodyFilterBuffer: undefined,
    proxy: undefined,
    errorPage: undefined,
  };
}

/** The step that runs `phase` in a request's walk, for the phases a location holds. */
const STEP_OF: Partial<Record<Phase, number>> = { rewrite: STEP_REWRITE, access: STEP_ACCESS, content: STEP_CONTENT, log: STEP_LOG };

/**
 * Runs `handler` for `phase` on a request opened for it and reports what it did. The phase runs
 * as in a server: rewrite/access/content as a step of the state machine (settle and decide say
 * how the request would go on, and with which status), the filters through the filter runners.
 */
export async function runSinglePhase(s: RequestState, phase: Phase, handler: CompiledHandler | CompiledSetHandler, preset: PhasePreset): Promise<PhaseOutcome> {
  if (preset.ctx !== undefined) {
    s.ctx = { ...preset.ctx };
    for (const rt of s.gen.runtimes) rt.presetCtx?.(s.ngx, preset.ctx);
  }
  for (const [k, v] of Object.entries(preset.vars ?? {})) writeVar(s, k, v);
  const headers = responseHeaders(s);
  if (phase === 'headerFilter' || phase === 'bodyFilter' || phase === 'log') {
    s.status = preset.status ?? 200;
    for (const [k, v] of Object.entries(preset.headers ?? {})) headers.set(k, v);
    // The response has begun: header_filter still may change it, later phases may not.
    s.headersSent = true;
  } else if (preset.status !== undefined) {
    s.status = preset.status;
  }
  let error: unknown;
  // Remembers what the handler threw; stays synchronous for synchronous handlers.
  const capture = (fn: CompiledHandler): CompiledHandler => (ngx) => {
    try {
      const r = fn(ngx);
      if (typeof (r as PromiseLike<unknown> | undefined)?.then !== 'function') return r;
      return Promise.resolve(r).catch((err: unknown) => {
        error = err;
        throw err;
      });
    } catch (err) {
      error = err;
      throw err;
    }
  };
  let value: unknown;
  let status: number | undefined;
  let code: number | undefined;
  const chunks: BodyFilterArg[] = [];
  const step = STEP_OF[phase];
  if (phase === 'set') {
    const args = preset.args ?? [];
    s.setArgs = args;
    await runHandler(s, 'set', capture((ngx) => (value = (handler as CompiledSetHandler)(ngx, ...args))));
    s.setArgs = undefined;
  } else if (phase === 'headerFilter') {
    s.location = { ...s.location, headerFilter: capture(handler as CompiledHandler) };
    runHeaderFilter(s, headers);
  } else if (phase === 'bodyFilter') {
    s.location = { ...s.location, bodyFilter: capture(handler as CompiledHandler) };
    const input = preset.chunks && preset.chunks.length > 0 ? preset.chunks : [''];
    for (let i = 0; i < input.length; i++) {
      const arg = runBodyFilter(s, input[i] as Chunk, i === input.length - 1);
      if (arg === null) break;
      chunks.push(arg);
      if (arg.eof) break;
    }
  } else if (step !== undefined) {
    s.location = { ...s.location, [phase]: capture(handler as CompiledHandler) };
    s.step = step;
    await runStep(s);
    code = s.exitCode;
    if (step !== STEP_LOG && s.exec === undefined) {
      // What the server would do next: go on to the next phase, or answer now (with this status).
      settle(s);
      if (s.step === STEP_RESPOND) status = decide(s) === undefined ? 0 : s.status;
    }
  } else {
    await runHandler(s, phase, capture(handler as CompiledHandler));
  }
  code ??= s.exitCode;
  const outHeaders = s.headers?.toRecord(0) ?? {};
  const location = outHeaders.location;
  const body = joinChunks(s.out.length > 0 ? s.out : ['']);
  const vars: Record<string, string | undefined> = {};
  for (const [k, v] of s.vars ?? []) vars[k] = v;
  const outcome: PhaseOutcome = {
    status: s.failed ? 500 : (status ?? s.status),
    headers: outHeaders,
    body: typeof body === 'string' ? body : Buffer.from(body).toString(),
    exited: code !== undefined,
    exitStatus: code,
    redirect: code !== undefined && REDIRECTS.has(code) && typeof location === 'string' ? { url: location, status: code } : undefined,
    exec: s.exec === undefined ? undefined : { uri: s.exec.named ? `@${s.exec.uri}` : s.exec.uri, args: s.exec.args },
    ctx: Object.assign({}, s.ctx, ...s.gen.runtimes.map((rt) => rt.ctxOf?.(s.ngx))),
    vars,
    chunks,
    value,
    error,
  };
  closeRequest(s);
  return outcome;
}
