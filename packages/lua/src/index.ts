// Public API of @phasekit/lua.

export { luaRuntime, LuaRuntime, type LuaBinding, type LuaRuntimeOptions } from './lua-runtime.js';
export { EXIT_SIGNAL, guard, okOrMessage, pushPairs, type RequestInstall } from './ngx/request.js';
export { LUA_ERROR_CODES, LuaHandlerError, LuaFileError, type LuaErrorCode } from './errors.js';
export { LuaVm, LuaSyntaxError, LuaRuntimeError, LuaVmError, LuaCall, LuaChunk, LuaRef, LuaThread } from './vm/index.js';
export type { LuaValue, ResumeResult, LuaFunction } from './vm/index.js';
