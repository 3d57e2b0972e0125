// The engine: compiles a config into locations and handlers, and runs each request through the phases.

import { EventEmitter } from 'eventemitter3';
import { systemClock, type Clock } from './clock.js';
import { parseConfig, type EngineConfig, type HandlerSpec, type SetSpec } from './config.js';
import type { LogLevel } from './constants.js';
import type { EngineCore } from './engine-core.js';
import { channels, type EngineEvents } from './events.js';
import { EngineClosedError, NoRuntimeError, PhasekitError } from './errors.js';
import type { HttpExchange } from './exchange.js';
import type { CompiledHandler, CompiledSetHandler, HandlerSite, ScriptRuntime, ScriptSpec } from './handler.js';
import { LocationTable, normalizeUri, parseMatch, type ParsedMatch } from './location.js';
import { levelRank, stderrLogger, type Logger } from './log.js';
import { NgxRequest } from './ngx-request.js';
import type { Phase } from './phases.js';
import { advance, phasesObserved, runHandler } from './pipeline.js';
import { defaultPage } from './status.js';
import { RequestState, STEP_RESPOND, type CompiledLocation } from './request-state.js';
import { parseSize, SharedDict } from './shared-dict/index.js';
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

const newRequestState = (s: RequestState) => new NgxRequest(s);

/** Builds and starts an engine: validates the config, compiles every handler, runs `init`. */
export async function createEngine(config: EngineConfig, options: EngineOptions = {}): Promise<Engine> {
  const engine = new Engine(config, options);
  await engine.start();
  return engine;
}

export class Engine extends EventEmitter<EngineEvents> implements EngineCore {
  readonly clock: Clock;
  readonly sharedDicts: Readonly<Record<string, SharedDict>>;
  readonly maxRedirects: number;
  readonly clientMaxBodySize: number;
  readonly #config: ReturnType<typeof parseConfig>;
  readonly #logger: Logger;
  readonly #logRank: number;
  readonly runtimes: readonly ScriptRuntime[];
  #locations = new LocationTable<CompiledLocation>();
  #requestSeq = 0;
  #inFlight = 0;
  #closed = false;
  #idle: (() => void) | undefined;

  /** Use `createEngine()`; the constructor does not compile handlers or run init. */
  constructor(config: EngineConfig, options: EngineOptions = {}) {
    super();
    this.#config = parseConfig(config);
    this.clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? stderrLogger;
    this.#logRank = levelRank(this.#config.errorLogLevel ?? 'error');
    this.runtimes = options.runtimes ?? [];
    this.maxRedirects = this.#config.maxInternalRedirects ?? 10;
    this.clientMaxBodySize = parseSize(this.#config.clientMaxBodySize ?? '1m');
    const dicts: Record<string, SharedDict> = { ...options.sharedDicts };
    for (const [name, size] of Object.entries(this.#config.sharedDicts ?? {})) {
      dicts[name] ??= new SharedDict(name, size, { clock: this.clock });
    }
    this.sharedDicts = Object.freeze(dicts);
  }

  get events(): EventEmitter<EngineEvents> {
    return this;
  }

  get locations(): LocationTable<CompiledLocation> {
    return this.#locations;
  }

  /** Starts runtimes, compiles every handler, and runs `init` then `initWorker`. */
  async start(): Promise<void> {
    const context = { config: this.#config, sharedDicts: this.sharedDicts, logger: this.#logger, clock: this.clock };
    for (const rt of this.runtimes) await rt.start(context);
    this.#locations = this.#compileLocations();
    const cfg = this.#config;
    if (cfg.init) await this.#runLifecycle('init', this.#compile(cfg.init, { phase: 'init', location: undefined, path: 'init' }));
    if (cfg.initWorker) {
      await this.#runLifecycle('initWorker', this.#compile(cfg.initWorker, { phase: 'initWorker', location: undefined, path: 'initWorker' }));
    }
  }

  /**
   * Runs one request. Returns false, touching nothing, when no location matches (the
   * adapter then falls through to the host app).
   */
  handle(exchange: HttpExchange): boolean {
    if (this.#closed) throw new EngineClosedError();
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
    const found = this.#locations.find(uri);
    if (found === undefined) return false;
    const id = ++this.#requestSeq;
    const s = new RequestState(this, exchange, id, newRequestState, found.location, uri, q === -1 ? '' : url.slice(q + 1), found.captures);
    if (found.location.internal) {
      s.exitCode = 404;
      s.step = STEP_RESPOND;
    }
    initVars(s);
    s.tracePhases = phasesObserved(s);
    this.#inFlight++;
    if (this.listenerCount('request:start') > 0 || channels['request:start'].hasSubscribers) {
      const info = { id, method: s.method, uri, location: s.location.name };
      this.emit('request:start', info);
      if (channels['request:start'].hasSubscribers) channels['request:start'].publish(info);
    }
    advance(s);
    return true;
  }

  log(level: LogLevel, message: string, request?: RequestState, err?: unknown): void {
    if (levelRank(level) > this.#logRank) return;
    const entry: Parameters<Logger>[0] = { level, message, time: this.clock.now() };
    if (request !== undefined) {
      entry.requestId = request.id;
      entry.phase = request.phase;
      entry.location = request.location.name;
      entry.client = request.exchange.remoteAddress;
      entry.request = `${request.exchange.method} ${request.requestUri} HTTP/${request.exchange.httpVersion}`;
    }
    if (err !== undefined) entry.err = err;
    this.#logger(entry);
  }

  /** Stops taking requests and shuts the runtimes down. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#inFlight > 0) await new Promise<void>((resolve) => (this.#idle = resolve));
    const cfg = this.#config;
    if (cfg.exitWorker) {
      await this.#runLifecycle('exitWorker', this.#compile(cfg.exitWorker, { phase: 'exitWorker', location: undefined, path: 'exitWorker' }));
    }
    for (const rt of this.runtimes) await rt.close();
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Called by the pipeline when a request has run its log phase. */
  requestDone(): void {
    if (--this.#inFlight === 0 && this.#idle !== undefined) this.#idle();
  }

  async #runLifecycle(phase: Phase, handler: CompiledHandler): Promise<void> {
    // Lifecycle handlers run on a request-less state so the same phase rules apply.
    const s = lifecycleState(this, phase);
    const pending = runHandler(s, phase, handler);
    if (pending !== undefined) await pending;
    if (s.failed) throw new PhasekitError('PHASEKIT_ERR_HANDLER', `${phase} handler failed; the engine does not start`);
  }

  #compileLocations(): LocationTable<CompiledLocation> {
    const table = new LocationTable<CompiledLocation>();
    const engineType = this.#config.defaultType ?? 'text/plain';
    this.#config.locations.forEach((loc, i) => {
      const match = parseMatch(loc.match) as ParsedMatch;
      const at = (phase: Phase, key: string): HandlerSite => ({ phase, location: loc.match, path: `locations[${i}].${key}` });
      const handler = (phase: Phase, key: keyof typeof loc): CompiledHandler | undefined => {
        const spec = loc[key] as HandlerSpec | undefined;
        return spec === undefined ? undefined : this.#compile(spec, at(phase, key));
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
          fn: this.#compileSet(spec, { phase: 'set', location: loc.match, path: `locations[${i}].set[${j}]` }),
        })),
        rewrite: handler('rewrite', 'rewrite'),
        access: handler('access', 'access'),
        content: handler('content', 'content'),
        headerFilter: handler('headerFilter', 'headerFilter'),
        bodyFilter: handler('bodyFilter', 'bodyFilter'),
        log: handler('log', 'log'),
        defaultType: loc.defaultType ?? engineType,
      };
      table.add(match, compiled);
    });
    return table;
  }

  #compile(spec: HandlerSpec, site: HandlerSite): CompiledHandler {
    if (typeof spec === 'function') return spec;
    if (spec.handler !== undefined) return spec.handler;
    const script = scriptOf(spec);
    return this.#runtimeFor(script, site).compile(script, site);
  }

  #compileSet(spec: SetSpec, site: HandlerSite): CompiledSetHandler {
    if (spec.handler !== undefined) return spec.handler;
    const script = scriptOf(spec);
    return this.#runtimeFor(script, site).compileSet(script, site);
  }

  #runtimeFor(script: ScriptSpec, site: HandlerSite): ScriptRuntime {
    const rt = this.runtimes.find((r) => r.kinds.includes(script.kind));
    if (rt === undefined) throw new NoRuntimeError(site.path, script.kind);
    return rt;
  }
}

function scriptOf(spec: { lua?: string | undefined; luaFile?: string | undefined }): ScriptSpec {
  return spec.lua !== undefined ? { kind: 'lua', source: spec.lua } : { kind: 'luaFile', source: spec.luaFile as string };
}

const LIFECYCLE_EXCHANGE: HttpExchange = {
  method: 'GET', url: '/', httpVersion: '1.1', headers: {}, rawHeaders: [], remoteAddress: '', remotePort: 0,
  localAddress: '', localPort: 0, secure: false,
  readBody: () => Promise.resolve(new Uint8Array(0)),
  respond: () => undefined,
  abort: () => undefined,
};

const LIFECYCLE_LOCATION: CompiledLocation = {
  name: '(lifecycle)', match: { kind: 'named', value: '(lifecycle)' }, internal: true, vars: new Map(), set: [],
  rewrite: undefined, access: undefined, content: undefined, headerFilter: undefined, bodyFilter: undefined, log: undefined,
  defaultType: 'text/plain',
};

function lifecycleState(engine: Engine, phase: Phase): RequestState {
  const s = new RequestState(engine, LIFECYCLE_EXCHANGE, 0, newRequestState, LIFECYCLE_LOCATION, '/', '', undefined);
  s.phase = phase;
  return s;
}
