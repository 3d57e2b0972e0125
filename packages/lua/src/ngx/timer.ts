// ngx.timer.at / every / running_count / pending_count: Lua callbacks run later in the timer phase.

import type { LuaCall, LuaRef, LuaValue } from '../vm/index.js';
import { LuaRef as Ref } from '../vm/index.js';
import { guard, type RequestInstall } from './request.js';

export function installTimer(ctx: RequestInstall): void {
  const { vm, ngx } = ctx;
  const timer = vm.newTable();
  const create = (every: boolean) => (call: LuaCall) => {
    const r = ctx.request(call);
    const name = every ? 'every' : 'at';
    if (call.type(1) !== 'number') return call.raiseError(`bad argument #1 to '${name}' (number expected, got ${call.type(1)})`);
    const delay = call.number(1) as number;
    if (call.type(2) !== 'function') return call.raiseError(`bad argument #2 to '${name}' (function expected, got ${call.type(2)})`);
    const fn = call.ref(2) as LuaRef;
    // Extra arguments are kept (tables and functions anchored) until the timer is done with them.
    const args: LuaValue[] = [];
    for (let i = 3; i <= call.argCount; i++) {
      const t = call.type(i);
      args.push(t === 'table' || t === 'function' || t === 'userdata' || t === 'thread' ? (call.ref(i) ?? null) : call.value(i));
    }
    const release = () => {
      fn.release();
      for (const a of args) if (a instanceof Ref) a.release();
    };
    let result;
    try {
      result = guard(call, () =>
        (every ? r.timer.every : r.timer.at)(delay, (tngx, premature) => {
          const last = !every || premature;
          let run: unknown;
          try {
            run = ctx.runFunction(fn, tngx, [premature, ...args]);
          } catch (err) {
            if (last) release();
            throw err;
          }
          return last ? Promise.resolve(run).finally(release) : run;
        }),
      );
    } catch (err) {
      release();
      throw err;
    }
    const [handle, err] = result;
    if (handle === undefined) {
      release();
      call.pushNil();
      call.pushString(err);
      return 2;
    }
    call.pushNumber(1);
    return 1;
  };
  ctx.fn(timer, 'at', create(false));
  ctx.fn(timer, 'every', create(true));
  ctx.fn(timer, 'running_count', (call) => {
    call.pushNumber(guard(call, () => ctx.request(call).timer.runningCount()));
    return 1;
  });
  ctx.fn(timer, 'pending_count', (call) => {
    call.pushNumber(guard(call, () => ctx.request(call).timer.pendingCount()));
    return 1;
  });
  vm.setField(ngx, 'timer', timer);
}
