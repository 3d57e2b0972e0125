// What each `ngx` API area module receives when the runtime builds the `ngx` table (one module per area).

import type { Clock } from '@phasekit/core';
import type { LuaFunction, LuaRef, LuaVm } from '../vm/index.js';

export interface NgxInstall {
  readonly vm: LuaVm;
  /** The `ngx` table user code sees. */
  readonly ngx: LuaRef;
  /**
   * Built-in modules for `require`: set `preload[name]` to a Lua function returning the module
   * (as Lua's package.preload), e.g. "cjson", "cjson.safe", "ngx.re".
   */
  readonly preload: LuaRef;
  /** The engine's clock: ngx.now(), ngx.time(), timers. */
  readonly clock: Clock;
  /** `null` as Lua sees it: the `ngx.null` light userdata (a LuaRef to it). */
  readonly nullValue: LuaRef;
  /** Lua function: (k1, v1, k2, v2, ...) → table, repeated keys collected into arrays. */
  readonly pairsToTable: LuaRef;
  /** Sets `table[name]` to a Lua function that calls `fn`. Create functions once, at install time. */
  fn(table: LuaRef, name: string, fn: LuaFunction): void;
}

/** An API area: installs its functions into the `ngx` table (and/or preload). */
export type NgxModule = (ctx: NgxInstall) => void;

/** Builds an empty `ngx` table, a preload table and the helpers modules install into. */
export function createInstall(vm: LuaVm, clock: Clock): NgxInstall {
  const ngx = vm.newTable();
  const preload = vm.newTable();
  const nullValue = vm.nullUserdata();
  vm.setField(ngx, 'null', nullValue);
  // tostring(ngx.null) reads "userdata: NULL", as LuaJIT prints a NULL light userdata
  vm.run('local null = ... debug.setmetatable(null, { __tostring = function(u) if u == null then return "userdata: NULL" end return string.format("userdata: %p", u) end })', 'ngx.null', nullValue);
  const [pairsToTable] = vm.run(PAIRS_TO_TABLE_LUA, 'ngx.pairs');
  return {
    vm,
    ngx,
    preload,
    clock,
    nullValue,
    pairsToTable: pairsToTable as LuaRef,
    fn(table, name, f) {
      vm.setField(table, name, vm.createFunction(f, name));
    },
  };
}

/** Lua source of pairsToTable. */
const PAIRS_TO_TABLE_LUA = String.raw`
local select, type = select, type
return function(...)
  local t, n = {}, select("#", ...)
  for i = 1, n, 2 do
    local k, v = select(i, ...)
    local prev = t[k]
    if prev == nil then t[k] = v
    elseif type(prev) == "table" then prev[#prev + 1] = v
    else t[k] = { prev, v } end
  end
  return t
end`;
