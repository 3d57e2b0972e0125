// createEngine with the Lua runtime included when the config has Lua handlers.

import { createEngine as createCoreEngine, type Engine, type EngineConfig, type EngineOptions } from '@phasekit/core';
import { luaRuntime } from '@phasekit/lua';

/** True when any handler in the config is `{ lua }` or `{ luaFile }`, or it loads Lua files (`luaLoad`). */
export function usesLua(config: EngineConfig): boolean {
  const isLua = (spec: unknown) => typeof spec === 'object' && spec !== null && ('lua' in spec || 'luaFile' in spec);
  if (config.lua !== undefined || (config.luaLoad ?? []).length > 0) return true;
  if ([config.init, config.initWorker, config.exitWorker, config.sslCertificate].some(isLua)) return true;
  if (Object.values(config.upstreams ?? {}).some((u) => isLua(u.balancer))) return true;
  return config.locations.some((loc) => Object.values(loc).some(isLua) || (loc.set ?? []).some(isLua));
}

/**
 * Builds and starts an engine, like @phasekit/core's createEngine, with a Lua runtime (one
 * wasmoon VM) added when the config has Lua handlers and `options.runtimes` gives none.
 */
export function createEngine(config: EngineConfig, options: EngineOptions = {}): Promise<Engine> {
  if (options.runtimes === undefined && usesLua(config)) return createCoreEngine(config, { ...options, runtimes: [luaRuntime()] });
  return createCoreEngine(config, options);
}
