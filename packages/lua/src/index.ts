// Public API of @phasekit/lua.

export { luaRuntime, LuaRuntime, type LuaRuntimeOptions } from './lua-runtime.js';
export { LUA_ERROR_CODES, LuaHandlerError, LuaFileError, type LuaErrorCode } from './errors.js';
export { LuaVm, LuaSyntaxError, LuaRuntimeError, LuaVmError } from './vm/index.js';
