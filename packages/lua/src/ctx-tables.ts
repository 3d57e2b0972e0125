// ngx.ctx for Lua: one Lua table per request, replaced when the request's ctx is reset (exec).
//
// The tables live in one Lua table, `store`, under a small integer key per request: a request that
// uses ngx.ctx costs no registry ref, no LuaRef and no finalizer. Keys are recycled once a request
// ends; the table a finished request left under its key stays until the key serves the next request
// (so at most as many stale tables as requests ever ran at once).

import type { Ngx } from '@phasekit/core';
import { guard } from './ngx/request.js';
import type { LuaCall, LuaRef, LuaVm } from './vm/index.js';

export interface CtxTables {
  /** The Lua table holding every request's ctx table by key. */
  readonly store: LuaRef;
  /**
   * For `ngx.ctx` reads: pushes the request's key, then `true` when Lua must put a new table under
   * it (a third value, the table to put there, when the ctx is shared with a parent request). Returns the count.
   */
  push(call: LuaCall, ngx: Ngx): number;
  /** For `ngx.ctx = t`: pushes the key under which Lua puts `t`. */
  replace(call: LuaCall, ngx: Ngx): void;
  /** The request ended: its key is free again. */
  release(ngx: Ngx): void;
  /** The request's key, if its Lua code used ngx.ctx. */
  key(ngx: Ngx): number | undefined;
  /** The request's key, taken now if it has none (the caller puts its table there). */
  claim(ngx: Ngx): number;
  /** A core ctx object that stands for the Lua table `ref` (a subrequest given the caller's ctx). */
  adopt(ref: LuaRef): Record<string, unknown>;
}

export function installCtxTables(vm: LuaVm): CtxTables {
  const store = vm.newTable();
  // Keyed by the request; `js` is the core ctx object the table belongs to: exec gives the
  // request a new one, and with it a new Lua table.
  const entries = new Map<Ngx, { js: object; key: number }>();
  const adopted = new WeakMap<object, LuaRef>();
  const free: number[] = [];
  let next = 0;
  const current = (call: LuaCall, ngx: Ngx) => guard(call, () => ngx.ctx);
  const take = (ngx: Ngx, js: object): number => {
    const key = free.pop() ?? ++next;
    entries.set(ngx, { js, key });
    return key;
  };
  return {
    store,
    push(call, ngx) {
      const js = current(call, ngx);
      const entry = entries.get(ngx);
      if (entry !== undefined && entry.js === js) {
        call.pushInteger(entry.key);
        return 1;
      }
      const key = entry?.key ?? take(ngx, js);
      if (entry !== undefined) entry.js = js;
      call.pushInteger(key);
      call.pushBoolean(true);
      const shared = adopted.get(js);
      if (shared === undefined) return 2;
      call.pushValue(shared);
      return 3;
    },
    replace(call, ngx) {
      const js = current(call, ngx);
      const entry = entries.get(ngx);
      if (entry === undefined) {
        call.pushInteger(take(ngx, js));
        return;
      }
      entry.js = js;
      call.pushInteger(entry.key);
    },
    key(ngx) {
      return entries.get(ngx)?.key;
    },
    claim(ngx) {
      const entry = entries.get(ngx);
      if (entry === undefined) return take(ngx, ngx.ctx);
      entry.js = ngx.ctx;
      return entry.key;
    },
    adopt(ref) {
      const js: Record<string, unknown> = {};
      adopted.set(js, ref);
      return js;
    },
    release(ngx) {
      const entry = entries.get(ngx);
      if (entry === undefined) return;
      entries.delete(ngx);
      free.push(entry.key);
    },
  };
}
