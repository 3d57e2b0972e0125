// Error codes of @phasekit/lua: the VM bridge's, and the runtime's own; all listed in docs/reference/errors.md.

import { LUA_VM_ERROR_CODES } from './vm/index.js';
import { BrandedError } from '@phasekit/core';

export const LUA_ERROR_CODES = {
  ...LUA_VM_ERROR_CODES,
  PHASEKIT_ERR_LUA_HANDLER: 'a Lua handler raised an error (its message and traceback are in the log)',
  PHASEKIT_ERR_LUA_FILE: 'a luaFile handler could not be read',
  PHASEKIT_ERR_LUA_MEMORY: 'a Lua handler ran out of memory: the VM reached lua.maxMemory ("not enough memory")',
} as const;

export type LuaErrorCode = keyof typeof LUA_ERROR_CODES;

/** How a kill by the request's CPU budget reads (CpuBudget.message()). */
const BUDGET_MESSAGE = 'request CPU budget exceeded';

/**
 * A Lua handler failed: `message` is Lua's (`content(location "/"):3: boom`), `traceback` the Lua
 * stack. Its `stack` is the traceback, so the engine's error log shows it, as OpenResty's does.
 */
export class LuaHandlerError extends BrandedError {
  /**
   * PHASEKIT_ERR_LUA_CPU_LIMIT: stopped by lua.maxRunMs; PHASEKIT_ERR_CPU_BUDGET: stopped by the
   * request's requestCpuBudgetMs; PHASEKIT_ERR_LUA_MEMORY: "not enough memory".
   */
  readonly code: 'PHASEKIT_ERR_LUA_HANDLER' | 'PHASEKIT_ERR_LUA_CPU_LIMIT' | 'PHASEKIT_ERR_CPU_BUDGET' | 'PHASEKIT_ERR_LUA_MEMORY';
  readonly traceback: string;
  constructor(message: string, traceback: string, killed: boolean) {
    super(message);
    this.name = 'LuaHandlerError';
    this.code = killed
      ? message.startsWith(BUDGET_MESSAGE) ? 'PHASEKIT_ERR_CPU_BUDGET' : 'PHASEKIT_ERR_LUA_CPU_LIMIT'
      : message === 'not enough memory' ? 'PHASEKIT_ERR_LUA_MEMORY' : 'PHASEKIT_ERR_LUA_HANDLER';
    this.traceback = traceback;
    this.stack = `runtime error: ${message}\n${traceback.startsWith(message) ? traceback.slice(message.length + 1) : traceback}`;
  }
}

export class LuaFileError extends BrandedError {
  readonly code = 'PHASEKIT_ERR_LUA_FILE';
  constructor(path: string, cause: unknown) {
    super(`cannot read Lua file "${path}": ${(cause as Error).message}`, { cause });
    this.name = 'LuaFileError';
  }
}
