// The engine as the `phasekit` package gives it: the Lua runtime added when the config has Lua
// handlers, and HAProxy's Lua contexts (luaLoad, actions, services, sample expressions) built in.

import {
  Engine as CoreEngine,
  type EngineConfig as CoreEngineConfig,
  type EngineOptions as CoreEngineOptions,
  type LocationConfig as CoreLocationConfig,
} from '@phasekit/core';
import { HaproxyExtension, type ActionFn, type ActionRuleset, type ConverterFn, type FetchFn, type HaproxyLocationKeys, type HaproxyRegistrations, type ServiceFn, type TaskFn } from '@phasekit/haproxy';
import { luaRuntime } from '@phasekit/lua';

/** A location, with HAProxy's keys (actions, service, setHeaders). */
export type LocationConfig = CoreLocationConfig & HaproxyLocationKeys;

/** The engine config, with HAProxy's keys (`luaLoad`, and per location actions, service, setHeaders). */
export type EngineConfig = Omit<CoreEngineConfig, 'locations'> & {
  /** HAProxy's lua-load: Lua files run once per start and reload (relative to lua.prefix), with `core` for registrations. */
  luaLoad?: string[];
  locations: LocationConfig[];
};

export interface EngineOptions extends CoreEngineOptions {
  /**
   * HAProxy-style registrations, in the `lua.*` namespace Lua's `core.register_*` uses: made before
   * the config compiles, so `actions`, `service` and `%[...]` expressions may name them.
   */
  haproxy?: HaproxyRegistrations;
}

/** True when any handler in the config is `{ lua }` or `{ luaFile }`, or it loads Lua files (`luaLoad`). */
export function usesLua(config: EngineConfig): boolean {
  // Anything but a config object is refused by the engine's validation, with the path.
  if (typeof config !== 'object' || config === null || !Array.isArray(config.locations)) return false;
  const isLua = (spec: unknown) => typeof spec === 'object' && spec !== null && ('lua' in spec || 'luaFile' in spec);
  if (config.lua !== undefined || (config.luaLoad ?? []).length > 0) return true;
  if ([config.init, config.initWorker, config.exitWorker, config.sslCertificate].some(isLua)) return true;
  if (Object.values(config.upstreams ?? {}).some((u) => isLua((u as { balancer?: unknown } | null)?.balancer))) return true;
  return config.locations.some((loc) => typeof loc === 'object' && loc !== null && (Object.values(loc).some(isLua) || (Array.isArray(loc.set) && loc.set.some(isLua))));
}

/**
 * @phasekit/core's Engine with a Lua runtime (one wasmoon VM) when the config has Lua handlers
 * and `options.runtimes` gives none, and HAProxy's contexts as an extension.
 */
export class Engine extends CoreEngine {
  readonly #haproxy: HaproxyExtension;

  /** Use `createEngine()`, or call `start()` after registering. */
  constructor(config: EngineConfig, options: EngineOptions = {}) {
    const { haproxy, ...rest } = options;
    const hx = new HaproxyExtension(haproxy);
    const runtimes = rest.runtimes ?? (usesLua(config) ? [luaRuntime()] : undefined);
    super(config as CoreEngineConfig, { ...rest, ...(runtimes === undefined ? {} : { runtimes }), extensions: [hx, ...(rest.extensions ?? [])] });
    this.#haproxy = hx;
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
