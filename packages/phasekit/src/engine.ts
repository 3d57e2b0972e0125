// The engine as the `phasekit` package gives it: the Lua runtime added when the config has Lua
// handlers; HAProxy's Lua contexts (luaLoad, actions, services, sample expressions), nginx's own
// modules (rules, addHeaders, static files, errorPages, accessLog) and Kong-style plugins
// (plugins, consumers, dynamicRoutes) built in.

import {
  Engine as CoreEngine,
  type EngineConfig as CoreEngineConfig,
  type EngineOptions as CoreEngineOptions,
  type LocationConfig as CoreLocationConfig,
} from '@phasekit/core';
import { HaproxyExtension, type ActionFn, type ActionRuleset, type ConverterFn, type FetchFn, type HaproxyLocationKeys, type HaproxyRegistrations, type ServiceFn, type TaskFn } from '@phasekit/haproxy';
import { luaRuntime } from '@phasekit/lua';
import { NginxExtension, type NginxEngineKeys, type NginxLocationKeys, type RuleInput } from '@phasekit/nginx';
import { BUILTIN_PLUGINS, PluginsExtension, type ChainDescription, type Plugin, type PluginEntry, type PluginsEngineKeys, type PluginsLocationKeys } from '@phasekit/plugins';

/**
 * A location, with HAProxy's keys (actions, service, setHeaders), nginx's (rules, addHeaders, root,
 * errorPages, accessLog, ...) and the plugins' (plugins, dynamicRoutes, prometheusMetrics).
 */
export type LocationConfig = CoreLocationConfig & HaproxyLocationKeys & NginxLocationKeys & PluginsLocationKeys;

type CoreServer = NonNullable<CoreEngineConfig['servers']>[number];

/** The engine config, with HAProxy's keys (`luaLoad`, ...), nginx's and the plugins' (`plugins`, `consumers`, `luaPlugins`, `dynamicRoutes`). */
export type EngineConfig = Omit<CoreEngineConfig, 'locations' | 'servers'> &
  NginxEngineKeys &
  PluginsEngineKeys & {
    /** HAProxy's lua-load: Lua files run once per start and reload (relative to lua.prefix), with `core` for registrations. */
    luaLoad?: string[];
    locations: LocationConfig[];
    /** More virtual hosts (the top level is the first server). */
    servers?: (Omit<CoreServer, 'locations'> & { locations: LocationConfig[] })[];
  };

export interface EngineOptions extends CoreEngineOptions {
  /**
   * HAProxy-style registrations, in the `lua.*` namespace Lua's `core.register_*` uses: made before
   * the config compiles, so `actions`, `service` and `%[...]` expressions may name them.
   */
  haproxy?: HaproxyRegistrations;
  /** TypeScript plugins (definePlugin), usable by name in `plugins` lists. */
  plugins?: readonly Plugin[];
}

/**
 * True when any handler in the config is `{ lua }` or `{ luaFile }`, it loads Lua files (`luaLoad`),
 * or it names plugins that are neither built in nor among `typescriptPlugins` (Lua plugins).
 */
export function usesLua(config: EngineConfig, typescriptPlugins: readonly string[] = []): boolean {
  // Anything but a config object is refused by the engine's validation, with the path.
  if (typeof config !== 'object' || config === null || !Array.isArray(config.locations)) return false;
  const isLua = (spec: unknown) => typeof spec === 'object' && spec !== null && ('lua' in spec || 'luaFile' in spec);
  if (config.lua !== undefined || (config.luaLoad ?? []).length > 0 || (config.luaPlugins ?? []).length > 0) return true;
  // (entries of any shape: a bad one is the config validation's to name)
  const luaPlugin = (list: readonly PluginEntry[] | undefined) =>
    Array.isArray(list) && list.some((e: PluginEntry | null) => typeof e === 'object' && e !== null && !BUILTIN_PLUGINS.includes(e.name) && !typescriptPlugins.includes(e.name));
  if (luaPlugin(config.plugins) || config.locations.some((loc) => typeof loc === 'object' && loc !== null && luaPlugin(loc.plugins))) return true;
  if ([config.init, config.initWorker, config.exitWorker, config.sslCertificate].some(isLua)) return true;
  if (Object.values(config.upstreams ?? {}).some((u) => isLua((u as { balancer?: unknown } | null)?.balancer))) return true;
  const luaRule = (rules: readonly RuleInput[] | undefined): boolean => (rules ?? []).some((r) => r.lua !== undefined || r.luaFile !== undefined || luaRule(r.then));
  const locations = [...config.locations, ...(Array.isArray(config.servers) ? config.servers.flatMap((s) => s.locations ?? []) : [])];
  return locations.some((loc) => typeof loc === 'object' && loc !== null && (Object.values(loc).some(isLua) || (Array.isArray(loc.set) && loc.set.some(isLua)) || luaRule(loc.rules) || luaRule(loc.serverRules)));
}

/**
 * @phasekit/core's Engine with a Lua runtime (one wasmoon VM) when the config has Lua handlers
 * and `options.runtimes` gives none, and HAProxy's contexts as an extension.
 */
export class Engine extends CoreEngine {
  readonly #haproxy: HaproxyExtension;
  readonly #plugins: PluginsExtension;

  /** Use `createEngine()`, or call `start()` after registering. */
  constructor(config: EngineConfig, options: EngineOptions = {}) {
    const { haproxy, plugins, ...rest } = options;
    const hx = new HaproxyExtension(haproxy);
    const px = new PluginsExtension({ plugins: plugins ?? [] });
    const runtimes = rest.runtimes ?? (usesLua(config, (plugins ?? []).map((p) => p.name)) ? [luaRuntime()] : undefined);
    super(config as CoreEngineConfig, { ...rest, ...(runtimes === undefined ? {} : { runtimes }), extensions: [hx, new NginxExtension(), px, ...(rest.extensions ?? [])] });
    this.#haproxy = hx;
    this.#plugins = px;
  }

  /** The resolved plugin order of every location (and dynamic route) of the running config. */
  describePlugins(): ChainDescription[] {
    return this.#plugins.describe();
  }

  /** As @phasekit/core's reload, with HAProxy's keys in the config type. */
  override reload(config?: EngineConfig): Promise<void> {
    return super.reload(config as CoreEngineConfig | undefined);
  }

  /** A sample fetch `lua.<name>`: `txn.f:lua_<name>()` in Lua, `%[lua.<name>]` in config. */
  registerFetch(name: string, fn: FetchFn): void {
    this.#haproxy.registerFetch(name, fn);
  }

  /** A converter `lua.<name>`: `txn.c:lua_<name>(s)` in Lua, `%[fetch,lua.<name>]` in config. */
  registerConverter(name: string, fn: ConverterFn): void {
    this.#haproxy.registerConverter(name, fn);
  }

  /** An action `lua.<name>` for the `http-req` and/or `http-res` lists, taking exactly `nbArgs` arguments. */
  registerAction(name: string, on: readonly ActionRuleset[], fn: ActionFn, nbArgs = 0): void {
    this.#haproxy.registerAction(name, on, fn, nbArgs);
  }

  /** A service `lua.<name>`, a location's `service`: it produces the response. */
  registerService(name: string, fn: ServiceFn): void {
    this.#haproxy.registerService(name, fn);
  }

  /** A background task, started after init and initWorker (and again after every reload). */
  registerTask(fn: TaskFn, ...args: unknown[]): void {
    this.#haproxy.registerTask(fn, ...args);
  }
}

/** Builds and starts an engine (see Engine): validates the config, compiles every handler, runs `init` then `initWorker`. */
export async function createEngine(config: EngineConfig, options: EngineOptions = {}): Promise<Engine> {
  const engine = new Engine(config, options);
  await engine.start();
  return engine;
}
