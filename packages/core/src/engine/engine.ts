// The engine: a config compiled into generations (start, reload, close, exitWorker), and the
// entry points adapters call — handle() for a request, session() for a framework route.

import type { LookupFunction } from 'node:net';
import { EventEmitter } from 'eventemitter3';
import { systemClock, type Clock } from '../clock.js';
import { BadArgumentError, ConfigError, EngineClosedError, PhasekitError } from '../errors.js';
import type { EngineEvents } from '../events.js';
import { answerPage, requestHost, type HttpExchange } from '../http/exchange.js';
import { normalizeUri } from '../http/location.js';
import { levelRank, stderrLogger, type Logger } from '../log.js';
import type { LogLevel } from '../ngx/constants.js';
import { NgxRequest } from '../ngx/request.js';
import type { Ngx } from '../ngx/types.js';
import type { Phase } from '../phases/facts.js';
import { openDetached, runDetached } from '../phases/lifecycle.js';
import { advance } from '../phases/pipeline.js';
import { PhaseSession, type RouteHandlers } from '../phases/route.js';
import { bareLocation, fabricateExchange, runSinglePhase, type PhaseOutcome, type PhasePreset, type PhaseRequest } from '../phases/single.js';
import { openRequest } from '../request/lifecycle.js';
import { STEP_RESPOND, type CompiledLocation, type Generation, type RequestState } from '../request/state.js';
import { createSharedDicts } from '../shared-dict/create.js';
import { parseSize, type AnySharedDict } from '../shared-dict/index.js';
import { DEFAULT_REQUEST_CPU_BUDGET_MS } from '../request/cpu-budget.js';
import { Cosockets } from '../socket/index.js';
import { cosocketDefaults } from './cosocket-config.js';
import { compileHandler, compileSetHandler } from './compile.js';
import { buildConfigSchema, formatPath, parseConfig, routeSchema, type EngineConfig, type HandlerSpec, type ParsedConfig, type RouteConfig, type SetFn } from './config.js';
import type { EngineCore } from './engine-core.js';
import type { EngineExtension } from './extension.js';
import { buildGeneration, retireGeneration, type GenerationHost } from './generation.js';
import type { HandlerSite, ScriptRuntime } from './script-runtime.js';
import type { TimerInfo } from './timers.js';
import { SINGLE_WORKER, type WorkerInfo } from './worker.js';

export interface EngineOptions {
  /** Where error-log entries go; default: nginx-style lines on stderr. */
  logger?: Logger;
  /** Time source for ngx.now(), TTLs and timers; default: the system clock. */
  clock?: Clock;
  /** Script runtimes for `{ lua }` / `{ luaFile }` handlers. */
  runtimes?: readonly ScriptRuntime[];
  /** Shared dicts to use instead of creating the config's (tests share them between engines). */
  sharedDicts?: Readonly<Record<string, AnySharedDict>>;
  /** Extensions (HAProxy's contexts, plugins): config keys and per-generation hooks of their own. */
  extensions?: readonly EngineExtension[];
  /** Which worker this engine is (set by phasekit's createWorkers); default: worker 0 of 1. */
  worker?: WorkerInfo;
  /** How cosockets resolve host names (nginx's `resolver`); default: the system's (`dns.lookup`). */
  lookup?: LookupFunction;
}

export interface CloseOptions {
  /** Milliseconds to wait for requests in flight before their connections are closed (default: the config's `shutdownTimeout`, 10 s). */
  timeout?: number;
}

/** Builds and starts an engine: validates the config, compiles every handler, runs `init` then `initWorker`. */
export async function createEngine(config: EngineConfig, options: EngineOptions = {}): Promise<Engine> {
  const engine = new Engine(config, options);
  await engine.start();
  return engine;
}

export class Engine extends EventEmitter<EngineEvents> implements EngineCore {
  readonly clock: Clock;
  readonly worker: WorkerInfo;
  readonly sharedDicts: Readonly<Record<string, AnySharedDict>>;
  /** Closes the connections of Redis-backed dicts. */
  readonly #closeDicts: () => Promise<void>;
  /** Cosocket defaults, the keepalive pools (per engine, as nginx's are per worker) and open sockets. */
  readonly cosockets: Cosockets;
  readonly #schema: ReturnType<typeof buildConfigSchema>;
  readonly #extensions: readonly EngineExtension[];
  #config: ParsedConfig;
  readonly #logger: Logger;
  #logRank: number;
  #runtimeTemplates: readonly ScriptRuntime[];
  #gen: Generation | undefined;
  #genSeq = 0;
  #requestSeq = 0;
  #closed = false;
  #closing: Promise<void> | undefined;
  /** reload() and close() run one after the other. */
  #lifecycleQueue: Promise<unknown> = Promise.resolve();
  /** What generations are built with (the engine, seen through the GenerationHost interface). */
  readonly #host: GenerationHost;

  /** Use `createEngine()`; the constructor neither compiles handlers nor runs init. */
  constructor(config: EngineConfig, options: EngineOptions = {}) {
    super();
    this.#extensions = options.extensions ?? [];
    const names = new Set<string>();
    for (const ext of this.#extensions) {
      if (names.has(ext.name)) throw new BadArgumentError(`extension "${ext.name}" is given twice`);
      names.add(ext.name);
    }
    this.#schema = buildConfigSchema(this.#extensions.flatMap((e) => (e.configSchema === undefined ? [] : [e.configSchema])));
    this.#config = parseConfig(config, this.#schema);
    this.clock = options.clock ?? systemClock;
    this.worker = options.worker ?? SINGLE_WORKER;
    this.#logger = options.logger ?? stderrLogger;
    this.#logRank = levelRank(this.#config.errorLogLevel ?? 'error');
    this.#runtimeTemplates = options.runtimes ?? [];
    const created = createSharedDicts(this.#config.sharedDicts ?? {}, options.sharedDicts ?? {}, this.clock, (level, message) => this.log(level, message));
    this.sharedDicts = Object.freeze(created.dicts);
    this.#closeDicts = created.close;
    this.cosockets = new Cosockets(this.clock, options.lookup);
    this.cosockets.defaults = cosocketDefaults(this.#config);
    this.#host = {
      engine: this,
      logger: this.#logger,
      nextGenerationId: () => ++this.#genSeq,
      requestOf: (ngx) => NgxRequest.stateOf(ngx),
      requestReload: (gen, reason) => {
        if (this.#closed || gen !== this.#gen) return;
        this.log('warn', `${reason}: reloading`);
        this.reload().catch((err: unknown) => this.log('error', `reload failed: ${err instanceof Error ? err.message : String(err)}`, undefined, err));
      },
      upstreamHealth: (upstream, peer, healthy) => {
        this.log(healthy ? 'warn' : 'error', `upstream "${upstream}" peer ${peer} is ${healthy ? 'up' : 'down'} (health check)`);
        this.emit('upstream:health', { upstream, peer, healthy });
      },
    };
  }

  get maxRedirects(): number {
    return this.#config.maxInternalRedirects ?? 10;
  }

  get requestCpuBudgetMs(): number {
    return this.#config.requestCpuBudgetMs ?? DEFAULT_REQUEST_CPU_BUDGET_MS;
  }

  get clientMaxBodySize(): number {
    return parseSize(this.#config.clientMaxBodySize ?? '1m');
  }

  get clientBodyBufferSize(): number {
    return parseSize(this.#config.clientBodyBufferSize ?? '16k');
  }

  get events(): EventEmitter<EngineEvents> {
    return this;
  }

  /** The script runtimes of the current generation. */
  get runtimes(): readonly ScriptRuntime[] {
    return this.#live().runtimes;
  }

  /** Pending timers of the current generation (what "too many pending timers" is made of). */
  get timers(): TimerInfo[] {
    return this.#live().timers.list();
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The validated config the current generation runs (extension keys included). */
  get config(): Readonly<ParsedConfig> {
    return this.#config;
  }

  nextRequestId(): number {
    return ++this.#requestSeq;
  }

  createNgx(request: RequestState): Ngx {
    return new NgxRequest(request);
  }

  /** Starts runtimes, compiles every handler, runs `init` then `initWorker`. */
  async start(): Promise<void> {
    if (this.#gen !== undefined) throw new PhasekitError('PHASEKIT_ERR_BAD_ARGUMENT', 'the engine has started already');
    this.#gen = await buildGeneration(this.#host, this.#config, this.#runtimeTemplates, this.#extensions);
  }

  /**
   * Builds a new generation from `config` (default: the current one): fresh script runtimes,
   * `init` and `initWorker` again; shared dicts keep their data. The old generation's pending
   * timers fire with premature = true; its requests in flight finish on the code they started
   * with, then its runtimes close. If the new config fails, the old generation stays.
   */
  reload(config?: EngineConfig): Promise<void> {
    // One reload at a time: each builds on the generation the previous one installed.
    const run = this.#lifecycleQueue.then(() => this.#reload(config));
    this.#lifecycleQueue = run.catch(() => undefined);
    return run;
  }

  async #reload(config: EngineConfig | undefined): Promise<void> {
    if (this.#closed) throw new EngineClosedError();
    const old = this.#live();
    const parsed = config === undefined ? this.#config : parseConfig(config, this.#schema);
    const runtimes = old.runtimes.map((rt) => rt.fork?.() ?? rt);
    const next = await buildGeneration(this.#host, parsed, runtimes, this.#extensions);
    if (this.#closed) {
      // close() came while this generation was being built: it never serves.
      await retireGeneration(this, next, { timeout: undefined, exitWorker: undefined, keep: [] });
      throw new EngineClosedError();
    }
    // The old generation's requests get the shutdown timeout it was configured with, as nginx's old workers do.
    const drainMs = shutdownMs(this.#config);
    this.#config = parsed;
    this.cosockets.defaults = cosocketDefaults(parsed);
    this.#logRank = levelRank(parsed.errorLogLevel ?? 'error');
    this.#runtimeTemplates = runtimes;
    this.#gen = next;
    await retireGeneration(this, old, { timeout: drainMs, exitWorker: undefined, keep: runtimes });
  }

  /**
   * Stops taking requests, lets those in flight finish (or closes their connections after
   * `timeout` ms, default the config's `shutdownTimeout`: 10 s), fires pending timers with
   * premature = true, runs `exitWorker`, closes the runtimes.
   */
  close(options: CloseOptions = {}): Promise<void> {
    this.#closing ??= (async () => {
      this.#closed = true;
      // A reload under way finishes (or gives up) first; then the generation serving now retires.
      await this.#lifecycleQueue;
      const gen = this.#gen;
      if (gen !== undefined) await retireGeneration(this, gen, { timeout: options.timeout ?? shutdownMs(this.#config), exitWorker: this.#config.exitWorker, keep: [] });
      this.cosockets.closeAll();
      await this.#closeDicts();
    })();
    return this.#closing;
  }

  /**
   * Runs one request. Returns false, touching nothing, when no location matches (the
   * adapter then falls through to the host app).
   */
  handle(exchange: HttpExchange): boolean {
    if (this.#closed) throw new EngineClosedError();
    const gen = this.#live();
    const url = exchange.url;
    const q = url.indexOf('?');
    const uri = normalizeUri(q === -1 ? url : url.slice(0, q));
    if (uri === undefined) {
      // nginx refuses a path that climbs above the root before any location is chosen.
      answerPage(exchange, 400);
      return true;
    }
    const server = gen.servers.size === 1 ? gen.servers.first : gen.servers.select(requestHost(exchange), exchange.localAddress, exchange.localPort);
    const found = server.locations.find(uri);
    if (found === undefined) return false;
    const s = openRequest(this, gen, { kind: 'main', exchange, location: found.location, uri, args: q === -1 ? '' : url.slice(q + 1), captures: found.captures, server });
    if (found.location.internal) {
      s.exitCode = 404;
      s.step = STEP_RESPOND;
    }
    advance(s);
    return true;
  }

  /**
   * Compiles the phase handlers of a framework route once (at route registration): rewrite,
   * access, headerFilter, bodyFilter, log, as a location would give them.
   */
  compileRoute(name: string, phases: RouteConfig): RouteHandlers {
    const result = routeSchema.safeParse(phases);
    if (!result.success) throw new ConfigError(result.error.issues.map((i) => ({ path: formatPath([name, ...i.path]), message: i.message })), { cause: result.error });
    const route: RouteHandlers & { phases: typeof result.data } = { name, compiled: new Map(), phases: result.data };
    this.#routeFor(route, this.#live());
    return route;
  }

  /** The route's handlers compiled for `gen` (compiled on first use after a reload). */
  #routeFor(route: RouteHandlers, gen: Generation): CompiledLocation {
    const cached = route.compiled.get(gen.id);
    if (cached !== undefined) return cached;
    const phases = (route as RouteHandlers & { phases: RouteConfig }).phases;
    const one = (phase: Phase, spec: HandlerSpec | undefined) =>
      spec === undefined ? undefined : compileHandler(spec, gen.runtimes, { phase, location: route.name, path: `${route.name}.${phase}` });
    const location: CompiledLocation = {
      ...bareLocation(route.name, {}),
      rewrite: one('rewrite', phases.rewrite),
      access: one('access', phases.access),
      headerFilter: one('headerFilter', phases.headerFilter),
      bodyFilter: one('bodyFilter', phases.bodyFilter),
      log: one('log', phases.log),
      defaultType: this.#config.defaultType ?? 'text/plain',
    };
    route.compiled.clear();
    route.compiled.set(gen.id, location);
    return location;
  }

  /** Starts the phases of one request on a framework route (see PhaseSession). */
  session(exchange: HttpExchange, route: RouteHandlers): PhaseSession {
    if (this.#closed) throw new EngineClosedError();
    const gen = this.#live();
    const url = exchange.url;
    const q = url.indexOf('?');
    const uri = normalizeUri(q === -1 ? url : url.slice(0, q)) ?? '/';
    return new PhaseSession(openRequest(this, gen, { kind: 'route', exchange, location: this.#routeFor(route, gen), uri, args: q === -1 ? '' : url.slice(q + 1) }));
  }

  /**
   * The ssl_certificate phase: runs the config's `sslCertificate` handler for a TLS handshake
   * asking for `serverName` (SNI). Resolves with the certificate and key it chose, or
   * undefined for the server's default. Rejects when the handler fails (the handshake is refused).
   */
  async sslCertificate(serverName: string | undefined): Promise<{ cert: string; key: string } | undefined> {
    const gen = this.#live();
    const handler = gen.sslCertificate;
    if (handler === undefined) return undefined;
    const s = await runDetached(this, gen, 'sslCertificate', handler, (st) => {
      st.ssl = { serverName, cert: undefined, key: undefined };
    });
    if (s.failed) throw new PhasekitError('PHASEKIT_ERR_HANDLER', `sslCertificate handler failed for server name "${serverName ?? ''}"`);
    const { cert, key } = s.ssl ?? {};
    return cert !== undefined && key !== undefined ? { cert, key } : undefined;
  }

  /**
   * Runs ONE handler for ONE phase against a fabricated request, with the phase's API rules,
   * and reports what it did. What @phasekit/testing's runPhase is built on.
   */
  async runPhase(phase: Phase, handler: HandlerSpec | SetFn, request: PhaseRequest = {}, preset: PhasePreset = {}): Promise<PhaseOutcome> {
    const gen = this.#live();
    const lifecycle = phase === 'init' || phase === 'initWorker' || phase === 'timer' || phase === 'exitWorker';
    const site: HandlerSite = { phase, location: lifecycle ? undefined : '(test)', path: phase };
    const compiled =
      phase === 'set'
        ? compileSetHandler(typeof handler === 'function' ? { var: 'value', handler: handler as SetFn } : { var: 'value', ...(handler as object) }, gen.runtimes, site)
        : compileHandler(handler as HandlerSpec, gen.runtimes, site);
    let s: RequestState;
    if (lifecycle) {
      s = openDetached(this, gen, phase);
    } else {
      const exchange = fabricateExchange(request);
      const q = exchange.url.indexOf('?');
      const uri = normalizeUri(q === -1 ? exchange.url : exchange.url.slice(0, q)) ?? '/';
      s = openRequest(this, gen, { kind: 'single', exchange, location: bareLocation('(test)', preset.vars ?? {}), uri, args: q === -1 ? '' : exchange.url.slice(q + 1), phase });
    }
    return runSinglePhase(s, phase, compiled, preset);
  }

  log(level: LogLevel, message: string, request?: RequestState, err?: unknown): void {
    if (levelRank(level) > this.#logRank) return;
    const entry: Parameters<Logger>[0] = { level, message, time: this.clock.now() };
    if (request !== undefined && request.id !== 0) {
      entry.requestId = request.id;
      entry.phase = request.phase;
      entry.location = request.location.name;
      entry.client = request.exchange.remoteAddress;
      entry.request = `${request.exchange.method} ${request.requestUri} HTTP/${request.exchange.httpVersion}`;
    } else if (request !== undefined) {
      entry.phase = request.phase;
    }
    if (err !== undefined) entry.err = err;
    const sink = request?.exchange.log;
    if (sink !== undefined) sink.call(request?.exchange, entry);
    else this.#logger(entry);
  }

  #live(): Generation {
    if (this.#gen === undefined) throw new PhasekitError('PHASEKIT_ERR_BAD_ARGUMENT', 'the engine has not started: use createEngine()');
    return this.#gen;
  }
}

/** nginx's worker_shutdown_timeout: how long requests in flight may finish when a generation retires. */
export const DEFAULT_SHUTDOWN_TIMEOUT_S = 10;

function shutdownMs(config: ParsedConfig): number {
  return Math.round((config.shutdownTimeout ?? DEFAULT_SHUTDOWN_TIMEOUT_S) * 1000);
}
