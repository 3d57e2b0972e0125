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
  return {
    vm,
    ngx,
    preload,
    clock,
    nullValue,
    fn(table, name, f) {
      vm.setField(table, name, vm.createFunction(f, name));
    },
  };
}
