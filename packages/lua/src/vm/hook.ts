// CPU-time limit for Lua: a count hook that stops a thread past its deadline in a way pcall cannot catch.
//
// How: one JS hook (addFunction) is set with LUA_MASKCOUNT on the main state before any thread exists,
// so every thread and user coroutine inherits it. Every `hookEvery` VM instructions it compares
// performance.now() with the deadline of the run in progress (Infinity when none). Past it:
//  - where Lua can yield, it yields from the hook (lua_yieldk with no values). A yield is not an error,
//    so no pcall sees it; a user coroutine that gets the yield hands control back to its resumer, whose
//    next hook (or the sandbox's coroutine.resume wrapper, which checks the kill flag) stops it too.
//    The runtime then reports 'error' (killed) and drops the thread without ever resuming it.
//  - where it cannot (inside table.sort's comparator, a gsub callback, a metamethod called from C), it
//    raises an error and sets a Lua-visible kill flag; the sandbox's pcall/xpcall/coroutine wrappers
//    re-raise while the flag is set, so the error unwinds to the thread.
// C-heavy work: the count hook cannot fire inside one C call. Where C work allocates (s:upper() on 10 MB,
// table.concat, gsub), the Lua allocator checks the clock every ALLOC_CHECK_BYTES allocated and, past the
// deadline, forces the hook to fire at the next instruction (force()); string.rep is the sandbox's own
// (fills with native copies, ~100x faster than Lua's byte-wise loop in wasm). One C call is bounded by
// the memory cap (its input and output fit in it). Not covered: a loop around a C call that neither
// allocates nor calls back (string.find over 10 MB, checked every hookEvery instructions), and __gc
// finalizers (Lua runs them with hooks off; the sandbox refuses __gc metatables).
//
// Cost, measured with vm.bench.ts on this repo's 2-core dev box (Node 20.20, wasmoon 1.16.0), median of 3:
//   pure-Lua loop `for i = 1, 1e7 do s = s + i end`: hook off 16.6-18.3 runs/s, hook on 6.6-7.8 runs/s
//     (about 2.4x slower). Lua 5.4 sends every VM instruction through luaG_traceexec once a count hook
//     is set; hookEvery does not change it (1e3 / 1e4 / 1e5 / 1e6 all measured 130-135 ms vs 55 ms off).
//   string/table-heavy loop (rep, tostring, concat): 198 ms off vs 187-203 ms on (within noise, <= 2%).
//   trivial handler (spawn + resume + done of a compiled chunk): ~600k/s with and without (noise).
//   Kill latency: a pcall-swallowing loop with maxRunMs=50 is stopped after 50.6-51.1 ms.
// So the limit costs little for typical handler code (C library calls, tables, JS calls) and a lot for
// tight arithmetic loops; maxRunMs: 0 removes the hook entirely.
// "CPU time" is the wall time spent inside resume: Lua plus any synchronous JS it calls.
import type { Heap, LuaModule, LuaState } from './wasm.js';
import { LUA_MASKCOUNT, LUA_REGISTRYINDEX } from './wasm.js';

export const DEFAULT_HOOK_EVERY = 1000;
/** Budget of trusted helper code (describing an error value runs the user's __tostring). */
export const HELPER_BUDGET_MS = 100;

export class CpuLimiter {
  readonly #m: LuaModule;
  readonly #heap: Heap;
  readonly #killKey: bigint;
  readonly hookPtr: number;
  /** performance.now() past which the running thread is stopped; Infinity when nothing is limited. */
  deadline = Infinity;
  /** maxRunMs of the run in progress, for the message. */
  limitMs = 0;
  /** Set by the hook when it stopped the run in progress. */
  killed = false;
  /**
   * A deadline over every run, whatever its own limit (the budget of the request whose code runs);
   * Infinity when none. Runs take the sooner of it and their own.
   */
  outer = Infinity;
  /** The message of a run stopped by `outer`. */
  outerMessage = '';
  /** The last kill was by `outer`, not by the run's own limit. */
  byOuter = false;
  /** Threads whose hook was set to fire at the next instruction (see force()). */
  readonly #forced: LuaState[] = [];
  #every = DEFAULT_HOOK_EVERY;
  #flagSet = false;

  constructor(m: LuaModule, heap: Heap, killKey: bigint) {
    this.#m = m;
    this.#heap = heap;
    this.#killKey = killKey;
    this.hookPtr = m.addFunction(this.#hook, 'vii');
  }

  install(L: LuaState, every: number): void {
    this.#every = every;
    this.#m._lua_sethook(L, this.hookPtr, LUA_MASKCOUNT, every);
  }

  /** The sooner of `own` and the outer deadline. */
  bound(own: number): number {
    return this.outer < own ? this.outer : own;
  }

  message(): string {
    return this.byOuter ? this.outerMessage : `Lua CPU time limit exceeded (maxRunMs=${this.limitMs})`;
  }

  /**
   * Past the deadline inside C code (the allocator saw it): makes `L`'s hook fire at its next VM
   * instruction instead of after up to `hookEvery` more, so a loop around a costly C call stops at once.
   */
  force(L: LuaState): void {
    if (L === 0 || this.#forced.includes(L)) return;
    this.#forced.push(L);
    this.#m._lua_sethook(L, this.hookPtr, LUA_MASKCOUNT, 1);
  }

  readonly #hook = (L: LuaState): void => {
    if (this.#forced.length > 0) this.unforce();
    if (performance.now() <= this.deadline) return;
    const m = this.#m;
    this.killed = true;
    this.byOuter = this.outer <= this.deadline;
    const msg = this.message();
    m._lua_rawgeti(L, LUA_REGISTRYINDEX, this.#killKey);
    m._lua_pushboolean(L, 1);
    m._lua_rawseti(L, -2, 1n);
    this.#heap.pushString(L, msg);
    m._lua_rawseti(L, -2, 2n);
    m._lua_settop(L, -2);
    this.#flagSet = true;
    if (m._lua_isyieldable(L) !== 0) {
      m._lua_yieldk(L, 0, 0, 0); // from a hook this returns; Lua throws the yield after the hook
      return;
    }
    this.#heap.pushString(L, msg);
    m._lua_error(L);
  };

  /** Puts forced threads back to `hookEvery` (at their hook, and when a run ends: a thread may be freed after). */
  unforce(): void {
    if (this.#forced.length === 0) return;
    for (const T of this.#forced) this.#m._lua_sethook(T, this.hookPtr, LUA_MASKCOUNT, this.#every);
    this.#forced.length = 0;
  }

  /**
   * Runs trusted helper code on its own short budget and leaves the limit state of the run in
   * progress as it was: a user's looping __tostring met while describing an error is stopped (the
   * helper's pcall falls back) instead of hanging the VM, and does not count as a kill of the run.
   */
  bounded<T>(L: LuaState, fn: () => T): T {
    const { deadline, killed, limitMs, outer, byOuter } = this;
    const flagWasSet = this.#flagSet;
    this.deadline = performance.now() + HELPER_BUDGET_MS;
    this.killed = false;
    this.limitMs = HELPER_BUDGET_MS;
    this.outer = Infinity;
    try {
      return fn();
    } finally {
      if (this.killed && !flagWasSet) this.clearFlag(L);
      this.deadline = deadline;
      this.killed = killed;
      this.limitMs = limitMs;
      this.outer = outer;
      this.byOuter = byOuter;
    }
  }

  /** Clears the Lua-visible kill flag after a killed run has been dealt with. */
  clearFlag(L: LuaState): void {
    if (!this.#flagSet) return;
    const m = this.#m;
    m._lua_rawgeti(L, LUA_REGISTRYINDEX, this.#killKey);
    m._lua_pushnil(L);
    m._lua_rawseti(L, -2, 1n);
    m._lua_settop(L, -2);
    this.#flagSet = false;
  }
}
