// The mutable state of one request as the pipeline walks it, and the kinds of request; internal to core.

import type { CompiledHandler, CompiledSetHandler } from '../engine/script-runtime.js';
import type { HttpExchange } from '../http/exchange.js';
import type { ParsedMatch } from '../http/location.js';
import type { BodyFilterArg, Chunk, Ngx } from '../ngx/types.js';
import { PHASE_BIT, type Phase } from '../phases/facts.js';
import { ResponseHeaders } from '../http/headers.js';
import type { EngineCore } from '../engine/engine-core.js';
import type { HandlerError } from '../errors.js';
import type { CpuBudget } from './cpu-budget.js';
import type { ExtensionGeneration } from '../engine/extension.js';
import type { ScriptRuntime } from '../engine/script-runtime.js';
import type { VirtualHosts, VirtualServer } from '../http/virtual-hosts.js';
import type { ErrorPageTarget } from '../engine/extension.js';
import type { Timers } from '../engine/timers.js';
import type { BalancerState, UpstreamLog } from '../upstream/proxy.js';
import type { CompiledUpstream, ProxyTarget } from '../upstream/upstreams.js';
import type { SocketScope } from '../socket/index.js';

/** A `$name` reference or literal text, from `vars` values and set `args`. */
export type Template = readonly (string | { ref: string })[];

export interface CompiledLocation {
  /** The `match` string, as written. */
  readonly name: string;
  readonly match: ParsedMatch;
  readonly internal: boolean;
  /** Declared variables with their initial value templates (nginx `set $a 12;`). */
  readonly vars: ReadonlyMap<string, Template>;
  /** Set handlers in order; `verbatim`: the result is stored as it is (undefined: no value), not as set_by_lua stores it. */
  readonly set: readonly { readonly var: string; readonly args: readonly Template[]; readonly fn: CompiledSetHandler; readonly verbatim?: boolean }[];
  readonly rewrite: CompiledHandler | undefined;
  readonly access: CompiledHandler | undefined;
  readonly content: CompiledHandler | undefined;
  readonly headerFilter: CompiledHandler | undefined;
  readonly bodyFilter: CompiledHandler | undefined;
  readonly log: CompiledHandler | undefined;
  readonly defaultType: string;
  /** bodyFilterBuffer: body_filter gets the whole body once, up to this many bytes. */
  readonly bodyFilterBuffer: { readonly maxBytes: number } | undefined;
  /** proxyPass: the content phase sends the request upstream. */
  readonly proxy: ProxyTarget | undefined;
  /** error_page (an extension's hook): where an engine page for a status sends the request instead. */
  readonly errorPage: ((status: number) => ErrorPageTarget | undefined) | undefined;
  /** lua_check_client_abort: a client that goes away ends the request (or runs the on_abort handler). */
  readonly checkClientAbort?: boolean;
}

/**
 * One generation of an engine: what a config compiled to. `reload()` makes a new one; requests
 * in flight finish on the generation they started with.
 */
export interface Generation {
  readonly id: number;
  readonly runtimes: readonly ScriptRuntime[];
  /** The servers (virtual hosts), each with its location table; the top level of the config is the first. */
  readonly servers: VirtualHosts<CompiledLocation>;
  readonly timers: Timers;
  /** Requests started on this generation and not yet past their log phase. */
  readonly requests: Set<RequestState>;
  /** Upstreams of the config, by name. */
  readonly upstreams: ReadonlyMap<string, CompiledUpstream>;
  /** Upstreams made for proxyPass URLs naming host:port directly. */
  readonly directUpstreams: Map<string, CompiledUpstream>;
  /** Stops the active health checks. */
  readonly stopHealthChecks: readonly (() => void)[];
  /** The sslCertificate handler, if the config has one. */
  readonly sslCertificate: CompiledHandler | undefined;
  /** What each engine extension keeps for this generation. */
  readonly extensions: readonly ExtensionGeneration[];
  /** Set once the generation is being replaced or closed (ngx.worker.exiting()). */
  exiting: boolean;
  /**
   * Every variable a location declares (`vars`, `set`), lower-cased: as in nginx, each exists in
   * every location of the config (it reads "" where nothing set it, and may be written).
   */
  readonly declaredVars: ReadonlySet<string>;
  /** Called when `requests` becomes empty while exiting. */
  drained: (() => void) | undefined;
}

export const STEP_SET = 0;
export const STEP_REWRITE = 1;
export const STEP_ACCESS = 2;
export const STEP_CONTENT = 3;
export const STEP_RESPOND = 4;
export const STEP_LOG = 5;
export const STEP_DONE = 6;

/**
 * The kinds of request, each with its plan: the steps it walks, in order (STEP_DONE ends every
 * plan). `main`: a request a server adapter hands over. `subrequest`: ngx.location.capture (no
 * access, no log, as nginx). `route`: phases around a framework's own route handler; the host
 * drives it one step at a time (rewrite, access, then filters on its response, then log).
 * The host's route handler is the route's content. `single`: one handler in one phase (the testing kit). `detached`: init, initWorker, timers,
 * exitWorker, sslCertificate — a handler with no request.
 */
export type RequestKind = 'main' | 'subrequest' | 'route' | 'single' | 'detached';

export interface KindFacts {
  /** The step it starts at. */
  readonly first: number;
  /** The step after each step, indexed by step (a step the plan does not hold goes to STEP_DONE). */
  readonly next: readonly number[];
  /** request:start / request:end are emitted. */
  readonly events: boolean;
  /** Counted in its generation's requests (a reload or close waits for it). */
  readonly tracked: boolean;
}

const plan = (...steps: number[]) => {
  const next = new Array<number>(STEP_DONE + 1).fill(STEP_DONE);
  steps.forEach((step, i) => (next[step] = steps[i + 1] ?? STEP_DONE));
  return { first: steps[0] ?? STEP_DONE, next };
};

export const REQUEST_KINDS: Readonly<Record<RequestKind, KindFacts>> = {
  main: { ...plan(STEP_SET, STEP_REWRITE, STEP_ACCESS, STEP_CONTENT, STEP_RESPOND, STEP_LOG), events: true, tracked: true },
  subrequest: { ...plan(STEP_SET, STEP_REWRITE, STEP_CONTENT, STEP_RESPOND), events: false, tracked: false },
  route: { ...plan(STEP_REWRITE, STEP_ACCESS, STEP_CONTENT, STEP_RESPOND, STEP_LOG), events: true, tracked: true },
  // One step at a time, as a main request would take it (the testing kit's runPhase).
  single: { ...plan(STEP_SET, STEP_REWRITE, STEP_ACCESS, STEP_CONTENT, STEP_RESPOND, STEP_LOG), events: false, tracked: false },
  detached: { ...plan(), events: false, tracked: false },
};

/** The headers of `s`'s response, made on first use. */
export function responseHeaders(s: RequestState): ResponseHeaders {
  return (s.headers ??= new ResponseHeaders());
}

export class RequestState {
  readonly engine: EngineCore;
  readonly gen: Generation;
  readonly exchange: HttpExchange;
  readonly kind: RequestKind;
  readonly id: number;
  readonly start: number;
  readonly ngx: Ngx;
  /** closeRequest ran: everything the request held is released. */
  closed = false;
  /** The kind's plan: the step after each step (REQUEST_KINDS[kind].next). */
  readonly next: readonly number[];

  method: string;
  /** The raw request target, `$request_uri`. */
  readonly requestUri: string;
  /** Normalized path, `$uri`. */
  uri: string;
  /** `$uri` as the request arrived (a proxied request sends the raw URI while it is unchanged). */
  readonly initialUri: string;
  /** Query string without `?`, `$args`. */
  args: string;

  /** The server (virtual host) whose locations this request is matched against. */
  readonly server: VirtualServer<CompiledLocation>;
  location: CompiledLocation;
  captures: RegExpExecArray | undefined;
  #phase: Phase = 'rewrite';
  /** PHASE_BIT of `phase`, kept beside it for the API checks on the hot path. */
  phaseBit = PHASE_BIT.rewrite;

  get phase(): Phase {
    return this.#phase;
  }

  set phase(phase: Phase) {
    this.#phase = phase;
    this.phaseBit = PHASE_BIT[phase];
  }
  step = STEP_SET;
  /** Emit phase:start/end for this request (someone was listening when it began). */
  tracePhases = false;

  /** ngx.status; 0 until set. */
  status = 0;
  headers: ResponseHeaders | undefined;
  /** Buffered output: one chunk per ngx.say / ngx.print call (body_filter sees them one by one). */
  out: Chunk[] = [];
  /** Output has begun (OpenResty sends the headers at the first say): status and exec are settled. */
  headersSent = false;
  /** The headers went out on the wire ahead of the body (ngx.flush / ngx.send_headers). */
  streaming = false;
  /** The body has ended (ngx.eof, or a body_filter that set eof). */
  eofSent = false;
  /** The last body_filter call has been made (eof), or a filter ended the body (ngx.arg[2] = true). */
  bodyEnded = false;
  /** A streamed response's Content-Length as a handler set it (the body must match it). */
  declaredLength: number | undefined;
  /** Settles when an ended streamed body has been handed to the client; the log phase waits for it. */
  finished: Promise<void> | undefined;
  exitCode: number | undefined;
  exec: { uri: string; args: string | undefined; named: boolean; resetCtx: boolean } | undefined;
  /** A handler failed (its error is logged). */
  failed = false;
  /** The first handler failure, as logged (what the host may answer itself, see HttpExchange.answerFailure). */
  error: HandlerError | undefined;
  redirects = 0;
  /** error_page redirected this request once (it does not again); the status its answer takes, if fixed. */
  errorPageDone = false;
  errorPageStatus: number | undefined;

  ctx: Record<string, unknown> | undefined;
  /** Declared and set variables of the current location. */
  vars: Map<string, string | undefined> | undefined;
  /** Request header changes made by ngx.req.setHeader/clearHeader (lower-cased name → value). */
  reqHeaders: Map<string, { name: string; value: string | string[] | undefined }> | undefined;
  body: Uint8Array | undefined;
  /** A body over clientBodyBufferSize, in a temp file deleted when the request ends. */
  bodyFile: string | undefined;
  /** A body being built with initBody/appendBody/finishBody. */
  newBody: Uint8Array[] | undefined;
  bodyRead = false;
  /** readBody found the body over clientMaxBodySize: the request answers 413. */
  bodyTooLarge: Error | undefined;
  arg: BodyFilterArg | undefined;
  setArgs: readonly (string | undefined)[] | undefined;
  /** Return value of the last handler (body_filter may return ngx.ERROR). */
  result: unknown;

  /** The balancer phase's decisions for the current try (ngx.balancer). */
  balancer: BalancerState | undefined;
  /** Tries of a proxied request, for the $upstream_* variables. */
  upstreamLog: UpstreamLog | undefined;
  /** The TLS handshake an ssl_certificate handler is choosing a certificate for. */
  ssl: { serverName: string | undefined; cert: string | undefined; key: string | undefined } | undefined;
  /** Subrequest nesting: 0 for a main request. */
  depth = 0;
  /** The request that started this subrequest. */
  parent: RequestState | undefined;
  /** Subrequests: called when the request closes (after its last step). */
  onDone: (() => void) | undefined;

  /** Cosockets opened by this request's handlers (closed when it ends). */
  sockets: SocketScope | undefined;
  /** The body is read through ngx.req.socket (or the connection was taken in raw mode). */
  bodySocket: 'body' | 'raw' | undefined;
  /** ngx.on_abort's handler, run when the client goes away (checkClientAbort). */
  abortHandler: (() => void) | undefined;
  /** The client went away before the response was finished. */
  clientAborted = false;
  /** Stops the running handler at once (a client abort with no on_abort handler); set by script runtimes. */
  terminate: (() => void) | undefined;
  /** Stops watching for a client abort. */
  unwatchAbort: (() => void) | undefined;

  /** The request's CPU budget (a subrequest shares its parent's); undefined when there is none. */
  cpu: CpuBudget | undefined;

  bytesSent = 0;
  bodyBytesSent = 0;
  endTime = 0;

  /** Use openRequest() (request/lifecycle.ts): it is the one place a request begins. */
  constructor(engine: EngineCore, gen: Generation, exchange: HttpExchange, kind: RequestKind, id: number,
    location: CompiledLocation, uri: string, args: string, captures: RegExpExecArray | undefined, server: VirtualServer<CompiledLocation> = gen.servers.first) {
    this.engine = engine;
    this.gen = gen;
    this.exchange = exchange;
    this.kind = kind;
    this.next = REQUEST_KINDS[kind].next;
    this.id = id;
    this.start = engine.clock.now();
    this.method = exchange.method;
    this.requestUri = exchange.url;
    this.uri = uri;
    this.initialUri = uri;
    this.args = args;
    this.server = server;
    this.location = location;
    this.captures = captures;
    this.ngx = engine.createNgx(this);
  }
}
