// Public API of phasekit: the engine (with Lua), the node:http adapter and inject(), in one install.

export * from '@phasekit/core';
export { createEngine, Engine, usesLua, type EngineConfig, type EngineOptions, type LocationConfig } from './engine.js';
export * from '@phasekit/haproxy';
export * from '@phasekit/nginx';
export * from '@phasekit/plugins';
export { luaRuntime, LuaRuntime, LuaHandlerError, LUA_ERROR_CODES, type LuaRuntimeOptions } from '@phasekit/lua';
export * from '@phasekit/node-http';
export { inject, createClock, runPhase, createSharedDicts, type InjectOptions, type InjectResponse, type FakeClock, type RunPhaseOptions, type RunPhaseResult, type RunPhaseLog, type SharedDictInput, type SetScript } from '@phasekit/testing';
export { createServer, readCertificate, type PhasekitServer, type ServeCertificate, type ServeOptions } from './serve.js';
export { createWorkers, reusePortSupported, type PhasekitWorkers, type WorkersOptions } from './workers.js';
