// ngx.ctx for Lua: one Lua table per request, replaced when the request's ctx is reset (exec).

import type { Ngx } from '@phasekit/core';
import { guard } from './ngx/request.js';
import type { LuaCall, LuaRef, LuaVm } from './vm/index.js';

export interface CtxTables {
  /** Pushes the request's ctx table, creating it on first use. */
  push(call: LuaCall, ngx: Ngx): void;
  /** `ngx.ctx = t`: argument `index` becomes the request's ctx table. */
  replace(call: LuaCall, ngx: Ngx, index: number): void;
  /** The request ended: its table is no longer anchored. */
  release(ngx: Ngx): void;
  /** The request's table, if its Lua code used ngx.ctx. */
  get(ngx: Ngx): LuaRef | undefined;
  /** Makes `ref` the request's table. */
  set(ngx: Ngx, ref: LuaRef): void;
  /** A core ctx object that stands for the Lua table `ref` (a subrequest given the caller's ctx). */
  adopt(ref: LuaRef): Record<string, unknown>;
}

export function installCtxTables(vm: LuaVm): CtxTables {
  // Keyed by the request; `js` is the core ctx object the table belongs to: exec gives the
  // request a new one, and with it a new Lua table.
  const tables = new Map<Ngx, { js: object; ref: LuaRef }>();
  const adopted = new WeakMap<object, LuaRef>();
  const current = (call: LuaCall, ngx: Ngx) => guard(call, () => ngx.ctx);
  return {
    push(call, ngx) {
      const js = current(call, ngx);
      let entry = tables.get(ngx);
      if (entry === undefined || entry.js !== js) {
        entry?.ref.release();
        const shared = adopted.get(js);
        // A shared table stays anchored by whoever adopted it; this request holds its own ref.
        entry = { js, ref: shared === undefined ? vm.newTable() : (vm.run('return ...', 'ngx.ctx.share', shared)[0] as LuaRef) };
        tables.set(ngx, entry);
      }
      call.pushValue(entry.ref);
    },
    replace(call, ngx, index) {
      const js = current(call, ngx);
      const ref = call.ref(index);
      if (ref === undefined) return;
      tables.get(ngx)?.ref.release();
      tables.set(ngx, { js, ref });
    },
    get(ngx) {
      return tables.get(ngx)?.ref;
    },
    set(ngx, ref) {
      tables.get(ngx)?.ref.release();
      tables.set(ngx, { js: ngx.ctx, ref });
    },
    adopt(ref) {
      const js: Record<string, unknown> = {};
      adopted.set(js, ref);
      return js;
    },
    release(ngx) {
      const entry = tables.get(ngx);
      if (entry === undefined) return;
      entry.ref.release();
      tables.delete(ngx);
    },
  };
}
