// What request-bound ngx modules get: the request whose Lua code is running, and the exit signal.

import type { Ngx, ParsedArgs } from '@phasekit/core';
import { LuaRaise } from '../vm/call.js';
import type { LuaCall, LuaRef, LuaValue } from '../vm/index.js';
import type { NgxInstall } from './install.js';

/** Yielded by ngx.exit/exec/redirect: the runtime ends the handler's thread there. */
export const EXIT_SIGNAL: unique symbol = Symbol('phasekit.lua.exit');

export interface RequestInstall extends NgxInstall {
  /** The request whose handler is running; raises OpenResty's "no request found" outside one. */
  request(call: LuaCall): Ngx;
  /** The request, or undefined outside one (init, timers). */
  maybeRequest(): Ngx | undefined;
  /** The Lua table holding the requests' `ngx.ctx` tables by key (see ctx-tables.ts). */
  readonly ctxStore: LuaRef;
  /** For `ngx.ctx` reads: pushes the request's key, and `true` (and a shared table) when a new table is due; returns the count. */
  ctxTable(call: LuaCall, ngx: Ngx): number;
  /** For `ngx.ctx = t`: pushes the key under which the request's new table goes. */
  setCtxTable(call: LuaCall, ngx: Ngx): void;
  /** Where relative Lua paths are resolved (ngx.config.prefix()). */
  readonly prefix: string;
  /** Runs a Lua function as a handler for `ngx` (a timer callback): synchronously, or a promise if it waits. */
  runFunction(fn: LuaRef, ngx: Ngx, args: readonly LuaValue[]): unknown;
  /** `fn` runs when a request that ran Lua code is done (to release what was kept for it). */
  onRequestDone(fn: (ngx: Ngx) => void): void;
}

/**
 * Runs `fn`; pushes `true`, or `false` and the error's message, so a Lua wrapper can raise
 * it with `error(err, 2)` at the user's line (a JS raise would point at the wrapper).
 */
export function okOrMessage(call: LuaCall, fn: () => void): number {
  try {
    fn();
    call.pushBoolean(true);
    return 1;
  } catch (err) {
    call.pushBoolean(false);
    call.pushString((err as Error).message);
    return 2;
  }
}

/** Pushes parsed query arguments as OpenResty returns them: the table, and "truncated" when max cut it short. */
export function pushArgs(call: LuaCall, parsed: ParsedArgs): number {
  call.pushPairsTable(parsed.pairs);
  if (!parsed.truncated) return 1;
  call.pushString('truncated');
  return 2;
}

/**
 * Pushes whether a get_headers call was cut short by `max`, as OpenResty's second value
 * "truncated". `count` counts what the API limits (header lines for the request, names for the
 * response); the full set is fetched only when the result is exactly at the limit.
 */
export function pushTruncated<R extends object>(call: LuaCall, got: R, max: number, all: () => R, count: (r: R) => number): void {
  call.pushBoolean(max > 0 && count(got) >= max && count(all()) > max);
}

/** Pushes a record as alternating keys and values (arrays as repeated keys) for pairsToTable. */
export function pushPairs(call: LuaCall, record: Readonly<Record<string, string | boolean | readonly (string | boolean)[]>>): number {
  let n = 0;
  for (const k of Object.keys(record)) {
    const v = record[k] as string | boolean | readonly (string | boolean)[];
    if (Array.isArray(v)) {
      for (const item of v as readonly (string | boolean)[]) {
        call.pushString(k);
        call.pushValue(item);
        n += 2;
      }
    } else {
      call.pushString(k);
      call.pushValue(v as string | boolean);
      n += 2;
    }
  }
  return n;
}

/** Runs `fn`; a JS error (an API disabled here, a bad argument) becomes a Lua error at the caller's line. */
export function guard<T>(call: LuaCall, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof LuaRaise) throw err;
    return call.raiseError(err instanceof Error ? err.message : String(err));
  }
}
