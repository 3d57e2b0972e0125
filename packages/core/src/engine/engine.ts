// The engine: compiles a config into locations and handlers, runs each request through the
// phases, and owns the lifecycle (init, initWorker, timers, reload, close, exitWorker).

import { EventEmitter } from 'eventemitter3';
import { systemClock, type Clock } from '../clock.js';
import { formatPath, parseConfig, routeSchema, type EngineConfig, type HandlerSpec, type RouteConfig, type SetFn, type SetSpec } from './config.js';
import { PhaseSession, type RouteHandlers } from '../phases/route.js';
import type { LogLevel } from '../ngx/constants.js';
import type { EngineCore } from './engine-core.js';
import { channels, type EngineEvents } from '../events.js';
import { BadArgumentError, ConfigError, EngineClosedError, HandlerError, NoRuntimeError, PhasekitError, type ConfigIssue } from '../errors.js';
import type { HttpExchange } from '../http/exchange.js';
import type { CompiledHandler, CompiledSetHandler, HandlerSite, ScriptRuntime, ScriptSpec } from './script-runtime.js';
import { LocationTable, normalizeUri, parseMatch, type ParsedMatch } from '../http/location.js';
import { levelRank, stderrLogger, type Logger } from '../log.js';
import { NgxRequest } from '../ngx/request.js';
import type { Phase } from '../phases/facts.js';
import type { Ngx } from '../ngx/types.js';
import { advance, phasesObserved, runHandler } from '../phases/pipeline.js';
import { RequestState, STEP_RESPOND, type CompiledLocation, type Generation } from '../request/state.js';
import { parseSize, SharedDict } from '../shared-dict/index.js';
import { bareLocation, fabricateExchange, runSinglePhase, type PhaseOutcome, type PhasePreset, type PhaseRequest } from '../phases/single.js';
import { defaultPage } from '../text/status.js';
import { Timers, type TimerInfo } from './timers.js';
import { closeUpstreams, compileProxy, compileUpstream, startHealthChecks, type CompiledUpstream } from '../upstream/upstreams.js';
import { initVars, parseTemplate } from '../request/vars.js';
import {
  builtinRegistry, compileTemplate, HaproxyGeneration, HaproxyRegistry, hasSample, httpReqHandler, httpResHandler, isHaproxyRuntime, luaName,
  parseCall, serviceHandler, type ActionFn, type ActionRuleset, type CompiledRule, type CompiledTemplate, type ConverterFn, type FetchFn,
  type HaproxyRegistrations, type RegistryKind, type ServiceFn, type TaskFn,
} from '../haproxy/index.js';

export interface EngineOptions {
  /** Where error-log entries go; default: nginx-style lines on stderr. */
  logger?: Logger;
  /** Time source for ngx.now(), TTLs and timers; default: the system clock. */
  clock?: Clock;
  /** Script runtimes for `{ lua }` / `{ luaFile }` handlers. */
  runtimes?: readonly ScriptRuntime[];
  /** Shared dicts to use instead of creating the config's (tests share them between engines). */
  sharedDicts?: Readonly<Record<string, SharedDict>>;
  /**
   * HAProxy-style registrations, in the `lua.*` namespace Lua's `core.register_*` uses: made before
   * the config compiles, so `actions`, `service` and `%[...]` expressions may name them.
   */
  haproxy?: HaproxyRegistrations;
}

/** A generation with its HAProxy side (registrations of its luaLoad files, tasks, TXN objects). */
type EngineGeneration = Generation & { readonly haproxy: HaproxyGeneration };

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
  #gen: EngineGeneration | undefined;
  /** TypeScript registrations (over the built-ins); each generation's Lua ones stack on top. */
  readonly #registry = new HaproxyRegistry(builtinRegistry());
  readonly #tasks: { fn: TaskFn; args: readonly unknown[] }[] = [];
  #genSeq = 0;
  #requestSeq = 0;
  #closed = false;
  #closing: Promise<void> | undefined;
  /** reload() and close() run one after the other. */
  #lifecycleQueue: Promise<unknown> = Promise.resolve();

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
    const h = options.haproxy ?? {};
    for (const [name, fn] of Object.entries(h.fetches ?? {})) this.registerFetch(name, fn);
    for (const [name, fn] of Object.entries(h.converters ?? {})) this.registerConverter(name, fn);
    for (const [name, a] of Object.entries(h.actions ?? {})) this.registerAction(name, a.on, a.fn, a.nbArgs);
    for (const [name, fn] of Object.entries(h.services ?? {})) this.registerService(name, fn);
    for (const fn of h.tasks ?? []) this.registerTask(fn);
  }

  /** A sample fetch `lua.<name>`: `txn.f:lua_<name>()` in Lua, `%[lua.<name>]` in config. */
  registerFetch(name: string, fn: FetchFn): void {
    this.#register('fetch', name, () => this.#registry.addFetch(name, fn));
  }

  /** A converter `lua.<name>`: `txn.c:lua_<name>(s)` in Lua, `%[fetch,lua.<name>]` in config. */
  registerConverter(name: string, fn: ConverterFn): void {
    this.#register('converter', name, () => this.#registry.addConverter(name, fn));
  }

  /** An action `lua.<name>` for the `http-req` and/or `http-res` lists, taking exactly `nbArgs` arguments. */
  registerAction(name: string, on: readonly ActionRuleset[], fn: ActionFn, nbArgs = 0): void {
    for (const r of on) if (r !== 'http-req' && r !== 'http-res') throw new BadArgumentError(`registerAction: unknown action list "${String(r)}" (http-req or http-res)`);
    this.#register('action', name, () => this.#registry.addAction(name, on, fn, nbArgs));
  }

  /** A service `lua.<name>`, a location's `service`: it produces the response. */
  registerService(name: string, fn: ServiceFn): void {
    this.#register('service', name, () => this.#registry.addService(name, fn));
  }

  /**
   * A background task: `fn(task, ...args)` starts after init and initWorker (at once if the engine
   * runs), and again in every generation after a reload; `task.sleep()` rejects when it is stopped.
   */
  registerTask(fn: TaskFn, ...args: unknown[]): void {
    if (typeof fn !== 'function') throw new BadArgumentError('registerTask: a function is expected');
    this.#tasks.push({ fn, args });
    this.#gen?.haproxy.tasks.add(fn, args);
  }

  #register(kind: RegistryKind, name: string, add: () => string): void {
    // A name the running generation's Lua code registered is taken too.
    if (this.#gen?.haproxy.registry.has(kind, luaName(name))) throw new BadArgumentError(`${kind} "${luaName(name)}" is already registered`);
    add();
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
  reload(config?: EngineConfig): Promise<void> {
    // One reload at a time: each builds on the generation the previous one installed.
    const run = this.#lifecycleQueue.then(() => this.#reload(config));
    this.#lifecycleQueue = run.catch(() => undefined);
    return run;
  }

  async #reload(config: EngineConfig | undefined): Promise<void> {
    if (this.#closed) throw new EngineClosedError();
    const old = this.#live();
    const parsed = config === undefined ? this.#config : parseConfig(config);
    const runtimes = old.runtimes.map((rt) => rt.fork?.() ?? rt);
    const next = await this.#build(parsed, runtimes);
    if (this.#closed) {
      // close() came while this generation was being built: it never serves.
      await this.#retire(next, undefined, []);
      throw new EngineClosedError();
    }
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
      // A reload under way finishes (or gives up) first; then the generation serving now retires.
      await this.#lifecycleQueue;
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
    if (gen.haproxy.tracking) gen.haproxy.track(s);
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
    if (gen.haproxy.tracking) gen.haproxy.track(s);
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
    const sink = request?.exchange.log;
    if (sink !== undefined) sink.call(request?.exchange, entry);
    else this.#logger(entry);
  }

  /** Called by the pipeline when a request has run its log phase. */
  requestDone(request: RequestState): void {
    const gen = request.gen;
    gen.requests.delete(request);
    if (gen.requests.size === 0) gen.drained?.();
  }

  #live(): EngineGeneration {
    if (this.#gen === undefined) throw new PhasekitError('PHASEKIT_ERR_BAD_ARGUMENT', 'the engine has not started: use createEngine()');
    return this.#gen;
  }

  /** Starts `runtimes`, runs the luaLoad files, compiles `config`, runs init and initWorker, starts the tasks. */
  async #build(config: ParsedConfig, runtimes: readonly ScriptRuntime[]): Promise<EngineGeneration> {
    const context = { config, sharedDicts: this.sharedDicts, logger: this.#logger, clock: this.clock };
    for (const rt of runtimes) await rt.start(context);
    // Timers and tasks run on the generation, which exists once everything below has compiled.
    const slot: { built?: EngineGeneration } = {};
    const gen = () => slot.built as EngineGeneration;
    const hx = new HaproxyGeneration({
      parent: this.#registry,
      clock: this.clock,
      taskNgx: () => this.#lifecycleState(gen(), 'timer').ngx,
      log: (level, message, request, err) => this.log(level, message, request, err),
    });
    let locations: LocationTable<CompiledLocation>;
    let upstreams: Map<string, CompiledUpstream>;
    let sslCertificate: CompiledHandler | undefined;
    try {
      for (const t of this.#tasks) hx.tasks.add(t.fn, t.args);
      this.#loadLua(config, runtimes, hx);
      locations = this.#compileLocations(config, runtimes, hx);
      if (config.sslCertificate !== undefined) sslCertificate = this.#compile(config.sslCertificate, runtimes, { phase: 'sslCertificate', location: undefined, path: 'sslCertificate' });
      upstreams = this.#compileUpstreams(config, runtimes);
    } catch (err) {
      await hx.tasks.stop();
      for (const rt of runtimes) await rt.close();
      throw err;
    }
    const timers = new Timers(
      {
        now: () => this.clock.now(),
        schedule: (fn, ms) => this.clock.schedule(fn, ms),
        run: (callback) => this.#runDetached(gen(), 'timer', callback),
        log: (level, message) => this.log(level, message),
      },
      { maxPending: config.maxPendingTimers ?? 1024, maxRunning: config.maxRunningTimers ?? 256 },
    );
    const stopHealthChecks = [...upstreams].flatMap(([name, upstream]) => {
      const check = config.upstreams?.[name]?.healthCheck;
      if (check === undefined) return [];
      return startHealthChecks(upstream, check, {
        now: () => this.clock.now(),
        schedule: (fn, ms) => this.clock.schedule(fn, ms),
        report: (up, peer, healthy) => {
          this.log(healthy ? 'warn' : 'error', `upstream "${up}" peer ${peer.address} is ${healthy ? 'up' : 'down'} (health check)`);
          this.emit('upstream:health', { upstream: up, peer: peer.address, healthy });
        },
      });
    });
    const built: EngineGeneration = {
      id: ++this.#genSeq,
      runtimes,
      locations,
      timers,
      sslCertificate,
      upstreams,
      directUpstreams: new Map(),
      stopHealthChecks,
      requests: new Set(),
      exiting: false,
      drained: undefined,
      haproxy: hx,
    };
    slot.built = built;
    try {
      if (config.init) await this.#runLifecycle(built, 'init', this.#compile(config.init, runtimes, { phase: 'init', location: undefined, path: 'init' }));
      // HAProxy's init context: core.register_init functions, after the configuration is loaded.
      for (const fn of hx.inits) await this.#runLifecycle(built, 'init', fn);
      if (config.initWorker) {
        await this.#runLifecycle(built, 'initWorker', this.#compile(config.initWorker, runtimes, { phase: 'initWorker', location: undefined, path: 'initWorker' }));
      }
    } catch (err) {
      await timers.expire();
      await hx.tasks.stop();
      for (const stop of stopHealthChecks) stop();
      await closeUpstreams([...upstreams.values()]);
      for (const rt of runtimes) await rt.close();
      throw err;
    }
    hx.tasks.start();
    return built;
  }

  /** HAProxy's lua-load: each file runs once, in order, with `core` to register fetches, actions... */
  #loadLua(config: ParsedConfig, runtimes: readonly ScriptRuntime[], hx: HaproxyGeneration): void {
    for (const rt of runtimes) if (isHaproxyRuntime(rt)) rt.haproxyStart(hx.host);
    const files = config.luaLoad ?? [];
    if (files.length === 0) return;
    const rt = runtimes.find((r) => r.kinds.includes('luaFile') && isHaproxyRuntime(r));
    if (rt === undefined || !isHaproxyRuntime(rt)) throw new NoRuntimeError('luaLoad', 'luaFile');
    hx.loading = true;
    try {
      files.forEach((file, i) => {
        try {
          rt.haproxyLoad(file, `luaLoad[${i}]`);
        } catch (err) {
          const code = (err as { code?: unknown } | null)?.code;
          // Syntax errors and unreadable files keep their own codes, as for handlers.
          if (err instanceof PhasekitError || code === 'PHASEKIT_ERR_LUA_SYNTAX' || code === 'PHASEKIT_ERR_LUA_FILE') throw err;
          throw new HandlerError('init', `luaLoad[${i}] "${file}"`, err);
        }
      });
    } finally {
      hx.loading = false;
    }
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
  async #retire(gen: EngineGeneration, timeout: number | undefined, keep: readonly ScriptRuntime[]): Promise<void> {
    gen.exiting = true;
    await gen.timers.expire();
    await gen.haproxy.tasks.stop();
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
    for (const rt of gen.runtimes) rt.requestDone?.(s.ngx);
    if (s.failed) throw new PhasekitError('PHASEKIT_ERR_HANDLER', `${phase} handler failed; the engine does not start`);
  }

  /** Runs a handler outside any request (timers, exitWorker): errors are logged, never thrown. */
  #runDetached(gen: Generation, phase: Phase, handler: CompiledHandler): Promise<void> | void {
    const s = this.#lifecycleState(gen, phase);
    // Runtimes drop what they kept for this run (a Lua ngx.ctx table) once it is over.
    const done = () => {
      for (const rt of gen.runtimes) rt.requestDone?.(s.ngx);
    };
    const pending = runHandler(s, phase, handler);
    if (pending === undefined) return done();
    return Promise.resolve(pending).then(done);
  }

  /** A request-less state: lifecycle handlers and timers get the same `ngx` and phase rules. */
  #lifecycleState(gen: Generation, phase: Phase): RequestState {
    const s = new RequestState(this, gen, LIFECYCLE_EXCHANGE, 0, newNgx, LIFECYCLE_LOCATION, '/', '', undefined);
    s.phase = phase;
    return s;
  }

  #compileLocations(config: ParsedConfig, runtimes: readonly ScriptRuntime[], hx: HaproxyGeneration): LocationTable<CompiledLocation> {
    const table = new LocationTable<CompiledLocation>();
    const engineType = config.defaultType ?? 'text/plain';
    const issues: ConfigIssue[] = [];
    config.locations.forEach((loc, i) => {
      const match = parseMatch(loc.match) as ParsedMatch;
      const at = (phase: Phase, key: string): HandlerSite => ({ phase, location: loc.match, path: `locations[${i}].${key}` });
      const handler = (phase: Phase, key: keyof typeof loc): CompiledHandler | undefined => {
        const spec = loc[key] as HandlerSpec | undefined;
        return spec === undefined ? undefined : this.#compile(spec, runtimes, at(phase, key));
      };
      const template = (text: string, path: string): CompiledTemplate => {
        try {
          return compileTemplate(text, hx.registry);
        } catch (err) {
          issues.push({ path, message: (err as Error).message });
          return () => undefined;
        }
      };
      // Variables from the first one with a sample expression on are computed per request, in order,
      // at the start of rewrite (as nginx's `set` lines): their fetches see the request.
      const entries = Object.entries(loc.vars ?? {});
      const firstSample = entries.findIndex(([, v]) => hasSample(v));
      const plain = firstSample === -1 ? entries : entries.slice(0, firstSample);
      const sampled = firstSample === -1 ? [] : entries.slice(firstSample);
      const sampleSets = sampled.map(([name, text]) => {
        const t = template(text, `locations[${i}].vars.${name}`);
        return { var: name, args: [], fn: (ngx: Ngx) => t(hx.txn(ngx)) };
      });
      const setHeaders = Object.entries(loc.setHeaders ?? {}).map(([name, text]) => [name, template(text, `locations[${i}].setHeaders.${name}`)] as const);
      const rules = (list: ActionRuleset): CompiledRule[] =>
        (loc.actions?.[list] ?? []).flatMap((ref, j) => {
          const path = `locations[${i}].actions.${list}[${j}]`;
          let call;
          try {
            call = parseCall(ref);
          } catch (err) {
            issues.push({ path, message: (err as Error).message });
            return [];
          }
          const entry = hx.registry.action(call.name);
          if (entry === undefined) issues.push({ path, message: `unknown action "${call.name}"` });
          else if (!entry.on.has(list)) issues.push({ path, message: `action "${call.name}" is not registered for ${list}` });
          else if (call.args.length !== entry.nbArgs) issues.push({ path, message: `action "${call.name}" expects ${entry.nbArgs} argument(s), got ${call.args.length}` });
          else return [{ name: entry.name, fn: entry.fn, args: call.args }];
          return [];
        });
      const httpReq = rules('http-req');
      const httpRes = rules('http-res');
      let service;
      if (loc.service !== undefined) {
        service = hx.registry.service(loc.service);
        if (service === undefined) issues.push({ path: `locations[${i}].service`, message: `unknown service "${loc.service}"` });
      }
      if (sampled.length > 0 || setHeaders.length > 0 || httpReq.length > 0 || httpRes.length > 0 || loc.service !== undefined) hx.tracking = true;
      const access = handler('access', 'access');
      const headerFilter = handler('headerFilter', 'headerFilter');
      const vars = new Map(plain.map(([k, v]) => [k.toLowerCase(), parseTemplate(v)] as const));
      const compiled: CompiledLocation = {
        name: loc.match,
        match,
        internal: loc.internal ?? false,
        vars,
        set: [
          ...sampleSets,
          ...(loc.set ?? []).map((spec, j) => ({
            var: spec.var,
            args: (spec.args ?? []).map(parseTemplate),
            fn: this.#compileSet(spec, runtimes, { phase: 'set', location: loc.match, path: `locations[${i}].set[${j}]` }),
          })),
        ],
        rewrite: handler('rewrite', 'rewrite'),
        access: httpReq.length > 0 ? httpReqHandler(hx, httpReq, access) : access,
        content: service !== undefined ? serviceHandler(hx, service) : handler('content', 'content'),
        headerFilter: setHeaders.length > 0 || httpRes.length > 0 ? httpResHandler(hx, setHeaders, httpRes, headerFilter) : headerFilter,
        bodyFilter: handler('bodyFilter', 'bodyFilter'),
        log: handler('log', 'log'),
        defaultType: loc.defaultType ?? engineType,
        bodyFilterBuffer: loc.bodyFilterBuffer === undefined ? undefined : { maxBytes: parseSize(loc.bodyFilterBuffer.maxBytes) },
        proxy: loc.proxyPass === undefined ? undefined : compileProxy(loc.proxyPass, loc.proxy),
      };
      table.add(match, compiled);
    });
    if (issues.length > 0) throw new ConfigError(issues);
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
