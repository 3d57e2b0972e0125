// Error classes of the Lua VM bridge; each carries a stable PHASEKIT_ERR_LUA_* code.

import { BrandedError } from '@phasekit/core';

export const LUA_VM_ERROR_CODES = {
  PHASEKIT_ERR_LUA_SYNTAX: 'a Lua chunk does not compile',
  PHASEKIT_ERR_LUA_RUNTIME: 'Lua code run synchronously (LuaVm.run) raised an error',
  PHASEKIT_ERR_LUA_CPU_LIMIT: 'Lua code ran longer than maxRunMs of CPU time and was stopped',
  PHASEKIT_ERR_LUA_THREAD_STATE: 'a Lua thread was resumed, settled or used in a state that does not allow it',
  PHASEKIT_ERR_LUA_VM_CLOSED: 'the Lua VM was used after close()',
  PHASEKIT_ERR_LUA_VALUE: 'a JS value cannot be passed to Lua',
} as const;

export type LuaVmErrorCode = keyof typeof LUA_VM_ERROR_CODES;

export class LuaVmError extends BrandedError {
  readonly code: LuaVmErrorCode;
  constructor(code: LuaVmErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LuaVmError';
    this.code = code;
  }
}

/** A compile error; `message` is Lua's own, `chunkName:LINE: msg`. */
export class LuaSyntaxError extends LuaVmError {
  readonly chunkName: string;
  constructor(message: string, chunkName: string) {
    super('PHASEKIT_ERR_LUA_SYNTAX', message);
    this.name = 'LuaSyntaxError';
    this.chunkName = chunkName;
  }
}

/** A Lua error out of `LuaVm.run`; `message` is the Lua error, `traceback` the Lua stack at the error. */
export class LuaRuntimeError extends LuaVmError {
  readonly traceback: string;
  constructor(message: string, traceback: string, code: 'PHASEKIT_ERR_LUA_RUNTIME' | 'PHASEKIT_ERR_LUA_CPU_LIMIT' = 'PHASEKIT_ERR_LUA_RUNTIME') {
    super(code, message);
    this.name = 'LuaRuntimeError';
    this.traceback = traceback;
  }
}
