// What the HAProxy modules (core, TXN, AppletHTTP) share: the host, and how Lua functions run in each context.

import type { Ngx } from '@phasekit/core';
import type { HaproxyHost } from '../generation.js';
import { LuaHandlerError } from '@phasekit/lua';
import { EXIT_SIGNAL, type LuaBinding } from '@phasekit/lua';
import type { LuaChunk, LuaRef, LuaThread, LuaValue, ResumeResult } from '@phasekit/lua';

/** A context that may not wait (HAProxy's sample-fetch, converter, init and body contexts; http-res here). */
export interface SyncContext {
  readonly kind: 'sample-fetch' | 'converter' | 'init' | 'body' | 'http-res action';
  /** `lua.geo`, a file name, or '' (init). */
  readonly name: string;
}

export interface HaproxyLuaHost {
  readonly base: LuaBinding;
  readonly host: HaproxyHost;
  /** Resumes `th` once with `ngx` as the running request (the LuaRuntime's bookkeeping). */
  resume(th: LuaThread, ngx: Ngx | undefined): ResumeResult;
  /** Runs `th` as a handler for `ngx`: its first result, or a promise of it when it waits. */
  run(th: LuaThread, ngx: Ngx | undefined): unknown;
}

export interface HaproxyLua extends HaproxyLuaHost {
  /** Synchronous contexts running now, innermost last: core.sleep refuses to block inside one. */
  readonly sync: SyncContext[];
  /** core.done(value) in a synchronous context: the value the run returns. */
  doneValue: LuaValue;
  /** Runs `target(...args)` to the end, never waiting; raises when it tries to. */
  runSync(target: LuaRef | LuaChunk, ngx: Ngx | undefined, args: readonly LuaValue[], context: SyncContext, env?: 'sandbox'): LuaValue;
}

export function describeContext(c: SyncContext): string {
  switch (c.kind) {
    case 'sample-fetch':
      return `the sample-fetch context (${c.name})`;
    case 'converter':
      return `the converter context (${c.name})`;
    case 'init':
      return 'the init context';
    case 'body':
      return `the body context (${c.name})`;
    case 'http-res action':
      return `an http-res action (${c.name} runs in header_filter, which cannot wait)`;
  }
}

export function createHaproxyLua(h: HaproxyLuaHost): HaproxyLua {
  const lua: HaproxyLua = {
    ...h,
    sync: [],
    doneValue: null,
    runSync(target, ngx, args, context, env) {
      const th = h.base.vm.spawn(target, env === undefined ? { args } : { args, env });
      lua.sync.push(context);
      lua.doneValue = null;
      let r: ResumeResult;
      try {
        r = h.resume(th, ngx);
      } finally {
        lua.sync.pop();
      }
      if (r.status === 'done') return r.values[0] ?? null;
      if (r.status === 'error') throw new LuaHandlerError(r.message, r.traceback, r.killed);
      th.close();
      if (r.fromJs && r.value === EXIT_SIGNAL) {
        // core.done(value) / txn:done(): a multi-level return.
        const value = lua.doneValue;
        lua.doneValue = null;
        return value;
      }
      const message = `attempt to yield in ${describeContext(context)}: it may not wait`;
      throw new LuaHandlerError(message, message, false);
    },
  };
  return lua;
}
