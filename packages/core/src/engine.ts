// The engine: compiles a config into locations and handlers, runs each request through the
// phases, and owns the lifecycle (init, initWorker, timers, reload, close, exitWorker).

import { EventEmitter } from 'eventemitter3';
import { systemClock, type Clock } from './clock.js';
import { formatPath, parseConfig, routeSchema, type EngineConfig, type HandlerSpec, type RouteConfig, type SetFn, type SetSpec } from './config.js';
import { PhaseSession, type RouteHandlers } from './session.js';
import type { LogLevel } from './constants.js';
import type { EngineCore } from './engine-core.js';
import { channels, type EngineEvents } from './events.js';
import { ConfigError, EngineClosedError, NoRuntimeError, PhasekitError } from './errors.js';
import type { HttpExchange } from './exchange.js';
import type { CompiledHandler, CompiledSetHandler, HandlerSite, ScriptRuntime, ScriptSpec } from './handler.js';
import { LocationTable, normalizeUri, parseMatch, type ParsedMatch } from './location.js';
import { levelRank, stderrLogger, type Logger } from './log.js';
import { NgxRequest } from './ngx-request.js';
import type { Phase } from './phases.js';
import { advance, phasesObserved, runHandler } from './pipeline.js';
import { RequestState, STEP_RESPOND, type CompiledLocation, type Generation } from './request-state.js';
import { parseSize, SharedDict } from './shared-dict/index.js';
import { bareLocation, fabricateExchange, runSinglePhase, type PhaseOutcome, type PhasePreset, type PhaseRequest } from './single-phase.js';
import { defaultPage } from './status.js';
import { Timers, type TimerInfo } from './timers.js';
import { closeUpstreams, compileProxy, compileUpstream, startHealthChecks, type CompiledUpstream } from './upstream/upstreams.js';
import { initVars, parseTemplate } from './vars.js';

export interface EngineOptions {
  /** Where error-log entries go; default: nginx-style lines on stderr. */
  logger?: Logger;
  /** Time source for ngx.now(), TTLs and timers; default: the system clock. */
  clock?: Clock;
  /** Script runtimes for `{ lua }` / `{ luaFile }` handlers. */
  runtimes?: readonly ScriptRuntime[];
  /** Shared dicts to use instead of creating the config's (tests share them between engines). */
  sharedDicts?: Readonly<Record<string, SharedDict>>;
}

export interface CloseOptions {
  /** Milliseconds to wait for requests in flight before their connections are closed (default: wait). */
  timeout?: number;
}

type ParsedConfig = ReturnType<typeof parseConfig>;

const newNgx = (s: RequestState) => new NgxRequest(s);

/** Builds and starts an engine: validates the config, compiles every handler, runs `init` then `initWorker`. */
export async function createEngine(config: EngineConfig, options: EngineOptions = {}): Promise<Engine> {
  const engine = new Engine(config, options);
  await engine.start();
  return engine;
}

export class Engine extends EventEmitter<EngineEvents> implements EngineCore {
  readonly clock: Clock;
  readonly sharedDicts: Readonly<Record<string, SharedDict>>;
  #config: ParsedConfig;
  readonly #logger: Logger;
  #logRank: number;
  #runtimeTemplates: readonly ScriptRuntime[];
  #gen: Generation | undefined;
  #genSeq = 0;
  #requestSeq = 0;
  #closed = false;
  #closing: Promise<void> | undefined;

  /** Use `createEngine()`; the constructor neither compiles handlers nor runs init. */
  constructor(config: EngineConfig, options: EngineOptions = {}) {
    super();
    this.#config = parseConfig(config);
    this.clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? stderrLogger;
    this.#logRank = levelRank(this.#config.errorLogLevel ?? 'error');
    this.#runtimeTemplates = options.runtimes ?? [];
    const dicts: Record<string, SharedDict> = { ...options.sharedDicts };
    for (const [name, size] of Object.entries(this.#config.sharedDicts ?? {})) {
      dicts[name] ??= new SharedDict(name, size, { clock: this.clock });
    }
    this.sharedDicts = Object.freeze(dicts);
  }

  get maxRedirects(): number {
    return this.#config.maxInternalRedirects ?? 10;
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

  /** Starts runtimes, compiles every handler, runs `init` then `initWorker`. */
  async start(): Promise<void> {
    if (this.#gen !== undefined) throw new PhasekitError('PHASEKIT_ERR_BAD_ARGUMENT', 'the engine has started already');
    this.#gen = await this.#build(this.#config, this.#runtimeTemplates);
  }

  /**
   * Builds a new generation from `config` (default: the current one): fresh script runtimes,
   * `init` and `initWorker` again; shared dicts keep their data. The old generation's pending
   * timers fire with premature = true; its requests in flight finish on the code they started
   * with, then its runtimes close. If the new config fails, the old generation stays.
   */
  async reload(config?: EngineConfig): Promise<void> {
    const old = this.#live();
    const parsed = config === undefined ? this.#config : parseConfig(config);
    const runtimes = old.runtimes.map((rt) => rt.fork?.() ?? rt);
    const next = await this.#build(parsed, runtimes);
    this.#config = parsed;
    this.#logRank = levelRank(parsed.errorLogLevel ?? 'error');
    this.#runtimeTemplates = runtimes;
    this.#gen = next;
    await this.#retire(old, undefined, runtimes);
  }

  /**
   * Stops taking requests, lets those in flight finish (or closes their connections after
   * `timeout` ms), fires pending timers with premature = true, runs `exitWorker`, closes the runtimes.
   */
  close(options: CloseOptions = {}): Promise<void> {
    this.#closing ??= (async () => {
      this.#closed = true;
      const gen = this.#gen;
      if (gen === undefined) return;
      await this.#retire(gen, options.timeout, []);
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
    const rawPath = q === -1 ? url : url.slice(0, q);
    const uri = normalizeUri(rawPath);
    if (uri === undefined) {
      // nginx refuses a path that climbs above the root before any location is chosen.
      const page = defaultPage(400) as string;
      exchange.respond(400, { 'Content-Type': 'text/html', 'Content-Length': String(Buffer.byteLength(page)) }, exchange.method === 'HEAD' ? null : page);
      return true;
    }
    const found = gen.locations.find(uri);
    if (found === undefined) return false;
    const id = ++this.#requestSeq;
    const s = new RequestState(this, gen, exchange, id, newNgx, found.location, uri, q === -1 ? '' : url.slice(q + 1), found.captures);
    if (found.location.internal) {
      s.exitCode = 404;
      s.step = STEP_RESPOND;
    }
    initVars(s);
    s.tracePhases = phasesObserved(s);
    gen.requests.add(s);
    if (this.listenerCount('request:start') > 0 || channels['request:start'].hasSubscribers) {
      const info = { id, method: s.method, uri, location: s.location.name };
      this.emit('request:start', info);
      if (channels['request:start'].hasSubscribers) channels['request:start'].publish(info);
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
    const at = (phase: Phase): HandlerSite => ({ phase, location: route.name, path: `${route.name}.${phase}` });
    const one = (phase: Phase, spec: HandlerSpec | undefined) => (spec === undefined ? undefined : this.#compile(spec, gen.runtimes, at(phase)));
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

  /**
   * The ssl_certificate phase: runs the config's `sslCertificate` handler for a TLS handshake
   * asking for `serverName` (SNI). Resolves with the certificate and key it chose, or
   * undefined for the server's default. Rejects when the handler fails (the handshake is refused).
   */
  async sslCertificate(serverName: string | undefined): Promise<{ cert: string; key: string } | undefined> {
    const gen = this.#live();
    const handler = gen.sslCertificate;
    if (handler === undefined) return undefined;
    const s = this.#lifecycleState(gen, 'sslCertificate');
    s.ssl = { serverName, cert: undefined, key: undefined };
    const pending = runHandler(s, 'sslCertificate', handler);
    if (pending !== undefined) await pending;
    if (s.failed) throw new PhasekitError('PHASEKIT_ERR_HANDLER', `sslCertificate handler failed for server name "${serverName ?? ''}"`);
    const { cert, key } = s.ssl;
    return cert !== undefined && key !== undefined ? { cert, key } : undefined;
  }

  /** Starts the phases of one request on a framework route (see PhaseSession). */
  session(exchange: HttpExchange, route: RouteHandlers): PhaseSession {
    if (this.#closed) throw new EngineClosedError();
    const gen = this.#live();
    const url = exchange.url;
    const q = url.indexOf('?');
    const uri = normalizeUri(q === -1 ? url : url.slice(0, q)) ?? '/';
    const s = new RequestState(this, gen, exchange, ++this.#requestSeq, newNgx, this.#routeFor(route, gen), uri, q === -1 ? '' : url.slice(q + 1), undefined);
    initVars(s);
    s.tracePhases = phasesObserved(s);
    gen.requests.add(s);
    return new PhaseSession(s, () => {
      for (const rt of gen.runtimes) rt.requestDone?.(s.ngx);
      this.requestDone(s);
    });
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
        ? this.#compileSet(typeof handler === 'function' ? { var: 'value', handler: handler as SetFn } : { var: 'value', ...(handler as object) }, gen.runtimes, site)
        : this.#compile(handler as HandlerSpec, gen.runtimes, site);
    let s: RequestState;
    if (lifecycle) {
      s = this.#lifecycleState(gen, phase);
    } else {
      const exchange = fabricateExchange(request);
      const q = exchange.url.indexOf('?');
      const uri = normalizeUri(q === -1 ? exchange.url : exchange.url.slice(0, q)) ?? '/';
      s = new RequestState(this, gen, exchange, ++this.#requestSeq, newNgx, bareLocation('(test)', preset.vars ?? {}), uri, q === -1 ? '' : exchange.url.slice(q + 1), undefined);
      initVars(s);
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
    this.#logger(entry);
  }

  /** Called by the pipeline when a request has run its log phase. */
  requestDone(request: RequestState): void {
    const gen = request.gen;
    gen.requests.delete(request);
    if (gen.requests.size === 0) gen.drained?.();
  }

  #live(): Generation {
    if (this.#gen === undefined) throw new PhasekitError('PHASEKIT_ERR_BAD_ARGUMENT', 'the engine has not started: use createEngine()');
    return this.#gen;
  }

  /** Starts `runtimes`, compiles `config`, runs init and initWorker. */
  async #build(config: ParsedConfig, runtimes: readonly ScriptRuntime[]): Promise<Generation> {
    const context = { config, sharedDicts: this.sharedDicts, logger: this.#logger, clock: this.clock };
    for (const rt of runtimes) await rt.start(context);
    const gen: Generation = {
      id: ++this.#genSeq,
      runtimes,
      locations: this.#compileLocations(config, runtimes),
      timers: undefined as unknown as Timers,
      sslCertificate: config.sslCertificate === undefined ? undefined : this.#compile(config.sslCertificate, runtimes, { phase: 'sslCertificate', location: undefined, path: 'sslCertificate' }),
      upstreams: this.#compileUpstreams(config, runtimes),
      directUpstreams: new Map(),
      stopHealthChecks: [],
      requests: new Set(),
      exiting: false,
      drained: undefined,
    };
    (gen as { timers: Timers }).timers = new Timers(
      {
        now: () => this.clock.now(),
        schedule: (fn, ms) => this.clock.schedule(fn, ms),
        run: (callback) => this.#runDetached(gen, 'timer', callback),
        log: (level, message) => this.log(level, message),
      },
      { maxPending: config.maxPendingTimers ?? 1024, maxRunning: config.maxRunningTimers ?? 256 },
    );
    for (const [name, upstream] of gen.upstreams) {
      const check = config.upstreams?.[name]?.healthCheck;
      if (check === undefined) continue;
      (gen.stopHealthChecks as (() => void)[]).push(
        startHealthChecks(upstream, check, {
          now: () => this.clock.now(),
          schedule: (fn, ms) => this.clock.schedule(fn, ms),
          report: (up, peer, healthy) => {
            this.log(healthy ? 'warn' : 'error', `upstream "${up}" peer ${peer.address} is ${healthy ? 'up' : 'down'} (health check)`);
            this.emit('upstream:health', { upstream: up, peer: peer.address, healthy });
          },
        }),
      );
    }
    try {
      if (config.init) await this.#runLifecycle(gen, 'init', this.#compile(config.init, runtimes, { phase: 'init', location: undefined, path: 'init' }));
      if (config.initWorker) {
        await this.#runLifecycle(gen, 'initWorker', this.#compile(config.initWorker, runtimes, { phase: 'initWorker', location: undefined, path: 'initWorker' }));
      }
    } catch (err) {
      await gen.timers.expire();
      for (const stop of gen.stopHealthChecks) stop();
      await closeUpstreams([...gen.upstreams.values()]);
      for (const rt of runtimes) await rt.close();
      throw err;
    }
    return gen;
  }

  #compileUpstreams(config: ParsedConfig, runtimes: readonly ScriptRuntime[]): Map<string, CompiledUpstream> {
    const upstreams = new Map<string, CompiledUpstream>();
    for (const [name, u] of Object.entries(config.upstreams ?? {})) {
      const balancer = u.balancer === undefined ? undefined : this.#compile(u.balancer, runtimes, { phase: 'balancer', location: `upstream ${name}`, path: `upstreams.${name}.balancer` });
      try {
        upstreams.set(name, compileUpstream(name, u, balancer));
      } catch (err) {
        throw new ConfigError([{ path: `upstreams.${name}.servers`, message: (err as Error).message }], { cause: err });
      }
    }
    return upstreams;
  }

  /** Ends a generation: premature timers, requests drained (or cut at `timeout`), exitWorker, runtimes closed. */
  async #retire(gen: Generation, timeout: number | undefined, keep: readonly ScriptRuntime[]): Promise<void> {
    gen.exiting = true;
    await gen.timers.expire();
    if (gen.requests.size > 0) {
      await new Promise<void>((resolve) => {
        gen.drained = resolve;
        if (timeout !== undefined) {
          this.clock.schedule(() => {
            for (const s of gen.requests) s.exchange.abort();
            resolve();
          }, timeout);
        }
      });
    }
    if (this.#closed && this.#config.exitWorker) {
      const handler = this.#compile(this.#config.exitWorker, gen.runtimes, { phase: 'exitWorker', location: undefined, path: 'exitWorker' });
      await this.#runDetached(gen, 'exitWorker', handler);
    }
    for (const stop of gen.stopHealthChecks) stop();
    await closeUpstreams([...gen.upstreams.values(), ...gen.directUpstreams.values()]);
    for (const rt of gen.runtimes) if (!keep.includes(rt)) await rt.close();
  }

  async #runLifecycle(gen: Generation, phase: Phase, handler: CompiledHandler): Promise<void> {
    const s = this.#lifecycleState(gen, phase);
    const pending = runHandler(s, phase, handler);
    if (pending !== undefined) await pending;
    if (s.failed) throw new PhasekitError('PHASEKIT_ERR_HANDLER', `${phase} handler failed; the engine does not start`);
  }

  /** Runs a handler outside any request (timers, exitWorker): errors are logged, never thrown. */
  #runDetached(gen: Generation, phase: Phase, handler: CompiledHandler): Promise<void> | void {
    const s = this.#lifecycleState(gen, phase);
    const pending = runHandler(s, phase, handler);
    return pending === undefined ? undefined : Promise.resolve(pending).then(() => undefined);
  }

  /** A request-less state: lifecycle handlers and timers get the same `ngx` and phase rules. */
  #lifecycleState(gen: Generation, phase: Phase): RequestState {
    const s = new RequestState(this, gen, LIFECYCLE_EXCHANGE, 0, newNgx, LIFECYCLE_LOCATION, '/', '', undefined);
    s.phase = phase;
    return s;
  }

  #compileLocations(config: ParsedConfig, runtimes: readonly ScriptRuntime[]): LocationTable<CompiledLocation> {
    const table = new LocationTable<CompiledLocation>();
    const engineType = config.defaultType ?? 'text/plain';
    config.locations.forEach((loc, i) => {
      const match = parseMatch(loc.match) as ParsedMatch;
      const at = (phase: Phase, key: string): HandlerSite => ({ phase, location: loc.match, path: `locations[${i}].${key}` });
      const handler = (phase: Phase, key: keyof typeof loc): CompiledHandler | undefined => {
        const spec = loc[key] as HandlerSpec | undefined;
        return spec === undefined ? undefined : this.#compile(spec, runtimes, at(phase, key));
      };
      const vars = new Map(Object.entries(loc.vars ?? {}).map(([k, v]) => [k.toLowerCase(), parseTemplate(v)] as const));
      const compiled: CompiledLocation = {
        name: loc.match,
        match,
        internal: loc.internal ?? false,
        vars,
        set: (loc.set ?? []).map((spec, j) => ({
          var: spec.var,
          args: (spec.args ?? []).map(parseTemplate),
          fn: this.#compileSet(spec, runtimes, { phase: 'set', location: loc.match, path: `locations[${i}].set[${j}]` }),
        })),
        rewrite: handler('rewrite', 'rewrite'),
        access: handler('access', 'access'),
        content: handler('content', 'content'),
        headerFilter: handler('headerFilter', 'headerFilter'),
        bodyFilter: handler('bodyFilter', 'bodyFilter'),
        log: handler('log', 'log'),
        defaultType: loc.defaultType ?? engineType,
        bodyFilterBuffer: loc.bodyFilterBuffer === undefined ? undefined : { maxBytes: parseSize(loc.bodyFilterBuffer.maxBytes) },
        proxy: loc.proxyPass === undefined ? undefined : compileProxy(loc.proxyPass, loc.proxy),
      };
      table.add(match, compiled);
    });
    return table;
  }

  #compile(spec: HandlerSpec, runtimes: readonly ScriptRuntime[], site: HandlerSite): CompiledHandler {
    if (typeof spec === 'function') return spec;
    if (spec.handler !== undefined) return spec.handler;
    const script = scriptOf(spec);
    return runtimeFor(runtimes, script, site).compile(script, site);
  }

  #compileSet(spec: SetSpec, runtimes: readonly ScriptRuntime[], site: HandlerSite): CompiledSetHandler {
    if (spec.handler !== undefined) return spec.handler;
    const script = scriptOf(spec);
    return runtimeFor(runtimes, script, site).compileSet(script, site);
  }
}

function runtimeFor(runtimes: readonly ScriptRuntime[], script: ScriptSpec, site: HandlerSite): ScriptRuntime {
  const rt = runtimes.find((r) => r.kinds.includes(script.kind));
  if (rt === undefined) throw new NoRuntimeError(site.path, script.kind);
  return rt;
}

function scriptOf(spec: { lua?: string | undefined; luaFile?: string | undefined }): ScriptSpec {
  return spec.lua !== undefined ? { kind: 'lua', source: spec.lua } : { kind: 'luaFile', source: spec.luaFile as string };
}

const LIFECYCLE_EXCHANGE: HttpExchange = fabricateExchange({});

const LIFECYCLE_LOCATION: CompiledLocation = {
  name: '(lifecycle)', match: { kind: 'named', value: '(lifecycle)' }, internal: true, vars: new Map(), set: [],
  rewrite: undefined, access: undefined, content: undefined, headerFilter: undefined, bodyFilter: undefined, log: undefined,
  defaultType: 'text/plain',
  bodyFilterBuffer: undefined,
  proxy: undefined,
};
