// Public API of the Lua VM bridge: LuaVm, threads, the JS-function call view, values and errors.
export { LuaVm } from './vm.js';
export type { CallOptions, LuaVmOptions, LuaVmStats, SpawnOptions } from './vm.js';
export { LuaThread } from './thread.js';
export type { LuaThreadStatus } from './thread.js';
export { LuaCall } from './call.js';
export type { LuaFunction, OnResume } from './call.js';
export { drive } from './drive.js';
export { LuaChunk, LuaOpaque, LuaRef } from './ref.js';
export type { LuaTypeName, LuaValue } from './ref.js';
export type { CallResult, Done as LuaDone, Failure as LuaFailure, LimitScope, Yielded as LuaYielded, ResumeResult } from './runtime.js';
export { LUA_VM_ERROR_CODES, LuaRuntimeError, LuaSyntaxError, LuaVmError } from './errors.js';
export type { LuaVmErrorCode } from './errors.js';
