// One engine generation's plugins: which plugins exist (built-in, TypeScript, Lua), the global
// entries and consumers, each location's chain, the dynamic routes, and init_worker.

import { ConfigError, isAsyncStore, type ExtensionContext, type LocationCompile, type Ngx, type UpstreamHealthInfo } from '@phasekit/core';
import { builtinPlugins, BUILTIN_NAMES } from './builtins/index.js';
import { syncOnly, type PluginServices } from './builtins/common.js';
import { DEFAULT_METRICS_DICT, metricsHandler } from './builtins/prometheus.js';
import type { Chain } from './chain.js';
import type { DynamicRoutesConfig } from './config-schema.js';
import { Consumers } from './consumers.js';
import { PluginError } from './errors.js';
import { Gateway } from './gateway/gateway.js';
import { runs } from './gateway/runs.js';
import { HealthBoard } from './health.js';
import { ChainCompiler, mergeLevels, place, type Issue, type PlacedEntry, type PluginLookup } from './instances.js';
import { LuaPluginLoader, luaBindingOf } from './lua/loader.js';
import type { ConsumerConfig, PluginEntry, PluginSpec } from './types.js';
import { wrapDynamic, wrapStatic } from './wrap.js';

interface EngineKeys {
  plugins?: PluginEntry[];
  consumers?: ConsumerConfig[];
  luaPlugins?: string[];
  dynamicRoutes?: DynamicRoutesConfig;
  lua?: { prefix?: string };
  upstreams?: Record<string, { servers?: (string | { address: string })[] }>;
}

interface LocationKeys {
  plugins?: PluginEntry[];
  dynamicRoutes?: boolean;
  prometheusMetrics?: boolean | { dict: string };
}

/** A location's chain as `phasekit plugins` prints it. */
export interface ChainDescription {
  /** `locations[0]`. */
  readonly path: string;
  readonly location: string;
  /** The dynamic route's name, for chains of dynamic routes. */
  readonly route: string | undefined;
  readonly plugins: readonly { name: string; priority: number; source: PluginSpec['source'] }[];
}

/** Plugins by name: TypeScript ones, the built-ins, then Lua modules (loaded on first use). */
class Registry implements PluginLookup {
  readonly #known = new Map<string, PluginSpec>();
  readonly #failed = new Map<string, string>();
  readonly #lua: LuaPluginLoader | undefined;

  constructor(specs: readonly PluginSpec[], lua: LuaPluginLoader | undefined) {
    for (const s of specs) this.#known.set(s.name, s);
    this.#lua = lua;
  }

  get(name: string): PluginSpec | string {
    const known = this.#known.get(name);
    if (known !== undefined) return known;
    const failed = this.#failed.get(name);
    if (failed !== undefined) return failed;
    if (this.#lua === undefined) return this.#remember(name, `unknown plugin "${name}" (not built in, not given in the engine's plugins; a Lua plugin needs the Lua runtime)`);
    const loaded = this.#lua.load(name);
    if (typeof loaded === 'string') return this.#remember(name, `unknown plugin "${name}": not built in, not given in the engine's plugins, and no Lua plugin: ${loaded}`);
    this.#known.set(name, loaded);
    return loaded;
  }

  #remember(name: string, message: string): string {
    this.#failed.set(name, message);
    return message;
  }

  loaded(): PluginSpec[] {
    return [...this.#known.values()];
  }
}

export class PluginsGeneration {
  readonly #ctx: ExtensionContext;
  readonly #registry: Registry;
  readonly #compiler: ChainCompiler;
  readonly #issues: Issue[] = [];
  readonly #global: PlacedEntry[];
  readonly #consumers: Consumers;
  readonly #health = new HealthBoard();
  readonly #gateway: Gateway | undefined;
  readonly #services: PluginServices;
  readonly #chains: { path: string; location: string; chain: Chain }[] = [];
  readonly #onHealth = (info: UpstreamHealthInfo) => this.#health.set(info.upstream, info.peer, info.healthy);

  constructor(ctx: ExtensionContext, typescript: readonly PluginSpec[]) {
    this.#ctx = ctx;
    const config = ctx.config as EngineKeys;
    this.#consumers = new Consumers(config.consumers ?? []);
    this.#issues.push(...this.#consumers.issues);
    this.#services = {
      clock: ctx.clock,
      sharedDicts: ctx.sharedDicts,
      log: (level, message, ngx) => ctx.log(level, message, ngx),
      consumers: (ngx) => runs.get(ngx)?.consumers ?? this.#consumers,
      health: this.#health,
    };
    const binding = luaBindingOf(ctx.runtimes);
    this.#registry = new Registry([...typescript, ...builtinPlugins(this.#services)], binding === undefined ? undefined : new LuaPluginLoader(binding));
    this.#compiler = new ChainCompiler(this.#registry, this.#issues);
    this.#global = place(config.plugins, 'plugins');
    for (const p of this.#global) this.#compiler.check(p);
    (config.luaPlugins ?? []).forEach((name, i) => {
      const spec = this.#registry.get(name);
      if (typeof spec === 'string') this.#issues.push({ path: `luaPlugins[${i}]`, message: spec });
    });
    for (const [name, u] of Object.entries(config.upstreams ?? {})) {
      for (const s of u.servers ?? []) this.#health.add(name, typeof s === 'string' ? s : s.address);
    }
    const dyn = config.dynamicRoutes;
    if (dyn !== undefined) {
      const dict = ctx.sharedDicts[dyn.dict];
      if (dict === undefined) this.#issues.push({ path: 'dynamicRoutes.dict', message: `shared dict "${dyn.dict}" is not declared (add it to sharedDicts)` });
      // Every request reads the routes' version: the dict must answer at once.
      else if (isAsyncStore(dict)) this.#issues.push({ path: 'dynamicRoutes.dict', message: syncOnly(dyn.dict) });
      else {
        this.#gateway = new Gateway({
          config: dyn,
          dict,
          prefix: config.lua?.prefix ?? process.cwd(),
          lookup: this.#registry,
          globalEntries: this.#global,
          consumers: this.#consumers,
          health: this.#health,
          log: (level, message) => ctx.log(level, message),
        });
      }
    }
    // Global issues are handed to core with the first location's (core lists them all and stops).
  }

  /** Hands the issues found so far to core (through a location), which reports them all at once. */
  #flush(loc: LocationCompile): void {
    for (const i of this.#issues.splice(0)) loc.issue(i.path, i.message);
  }

  compileLocation(loc: LocationCompile): void {
    const keys = loc.config as LocationKeys;
    const own = place(keys.plugins, `${loc.path}.plugins`);
    if (keys.prometheusMetrics !== undefined && keys.prometheusMetrics !== false) {
      const dict = keys.prometheusMetrics === true ? DEFAULT_METRICS_DICT : keys.prometheusMetrics.dict;
      const store = this.#ctx.sharedDicts[dict];
      if (store === undefined) loc.issue(`${loc.path}.prometheusMetrics`, `shared dict "${dict}" is not declared (add it to sharedDicts)`);
      else if (isAsyncStore(store)) loc.issue(`${loc.path}.prometheusMetrics`, syncOnly(dict));
      loc.content = metricsHandler(this.#services, dict);
    }
    const site = { location: loc.name, route: undefined };
    const chain = this.#compiler.chain(mergeLevels([this.#global, own]), site, loc.path);
    this.#flush(loc);
    this.#chains.push({ path: loc.path, location: loc.name, chain });
    if (keys.dynamicRoutes === true) {
      if (this.#gateway === undefined) {
        if ((this.#ctx.config as EngineKeys).dynamicRoutes === undefined) loc.issue(`${loc.path}.dynamicRoutes`, 'the config has no top-level dynamicRoutes');
        return;
      }
      this.#gateway.locations.push({ name: loc.name, path: loc.path, entries: own });
      wrapDynamic(loc, this.#gateway, chain, this.#wrapHost());
      return;
    }
    wrapStatic(loc, chain, this.#wrapHost());
  }

  /** Issues no location took to core (a config without locations): they stop the start. */
  checkIssues(): void {
    if (this.#issues.length > 0) throw new ConfigError(this.#issues.splice(0));
  }

  async initWorker(): Promise<void> {
    this.#ctx.events.on('upstream:health', this.#onHealth);
    for (const spec of this.#registry.loaded()) {
      const init = spec.initWorker;
      if (init === undefined) continue;
      await this.#ctx.runInitWorker((ngx) => {
        try {
          const r = init(ngx);
          return r instanceof Promise ? r.catch((err: unknown) => Promise.reject(new PluginError(spec.name, 'init_worker', err))) : r;
        } catch (err) {
          throw new PluginError(spec.name, 'init_worker', err);
        }
      });
    }
    const gateway = this.#gateway;
    if (gateway === undefined) return;
    const interval = (this.#ctx.config as EngineKeys).dynamicRoutes?.interval ?? 1;
    await this.#ctx.runInitWorker(async (ngx) => {
      await gateway.load();
      if (interval > 0) {
        const [, err] = ngx.timer.every(interval, (_t: Ngx, premature: boolean) => (premature ? undefined : gateway.reload()));
        if (err !== undefined) throw new Error(`dynamicRoutes: cannot start the reload timer: ${err}`);
      }
    });
  }

  stop(): void {
    this.#ctx.events.off('upstream:health', this.#onHealth);
  }

  describe(): ChainDescription[] {
    const out: ChainDescription[] = this.#chains.map((c) => ({ path: c.path, location: c.location, route: undefined, plugins: plugins(c.chain) }));
    for (const d of this.#gateway?.describe() ?? []) {
      const loc = this.#chains.find((c) => c.path === d.location);
      out.push({ path: d.location, location: loc?.location ?? d.location, route: d.route, plugins: plugins(d.chain) });
    }
    return out;
  }

  #wrapHost() {
    return {
      consumers: this.#consumers,
      logFailure: (ngx: Ngx, location: string, err: PluginError) => this.#ctx.log('error', `log handler of location "${location}" failed: ${err.message}`, ngx, err),
    };
  }
}

function plugins(chain: Chain): ChainDescription['plugins'] {
  return chain.instances.map((i) => ({ name: i.spec.name, priority: i.spec.priority, source: i.spec.source }));
}

export { BUILTIN_NAMES };
