// LuaVm: one Lua 5.4 state (own wasm instance) with sandboxed chunks, JS functions and host-driven coroutines.
import type { LuaFunction } from './call.js';
import { LuaRuntimeError, LuaSyntaxError, LuaVmError } from './errors.js';
import { DEFAULT_HOOK_EVERY } from './hook.js';
import { LuaChunk, type LuaRef, type LuaValue } from './ref.js';
import { Runtime, type CallResult, type LimitScope, type ThreadSlot } from './runtime.js';
import { LuaThread } from './thread.js';
import { loadLuaModule } from './wasm.js';

export interface LuaVmOptions {
  /** Lua CPU time a thread may use over all its resumes, in ms; 0 turns the limit (and its hook) off. Default 1000. */
  maxRunMs?: number;
  /** Cap on the Lua heap in bytes (allocations past it fail with "not enough memory"). Default: no cap. */
  memoryMaxBytes?: number;
  /** VM instructions between two checks of the CPU limit. Default 1000. */
  hookEvery?: number;
  /**
   * Install the CPU-limit machinery (count hook, timed allocator) even when maxRunMs is 0, for outer
   * deadlines (setOuterDeadline). Default: maxRunMs > 0.
   */
  limits?: boolean;
}

export interface SpawnOptions {
  /**
   * `_ENV` of a compiled chunk: 'fresh' (default) a new table per run whose misses fall back to the
   * sandbox globals; 'sandbox' the shared sandbox globals table itself; or a table you pass (e.g. newEnv()
   * shared by the phases of one request). Ignored for a LuaRef function.
   */
  env?: 'fresh' | 'sandbox' | LuaRef;
  /** Arguments the chunk sees as `...` (or the function receives). */
  args?: readonly LuaValue[];
  /** CPU limit of this thread in ms; defaults to the VM's maxRunMs; 0 = unlimited. No effect if the VM was created with maxRunMs 0. */
  maxRunMs?: number;
  /**
   * 'thread' (default): maxRunMs bounds the Lua CPU time summed over all resumes, so spin-yield-spin
   * cannot dodge it. 'resume': each resume gets maxRunMs afresh, for long-lived loops that wait between
   * bursts of work (an OpenResty timer doing `while true do ngx.sleep(1) ... end`).
   */
  limitScope?: LimitScope;
}

export interface CallOptions {
  /** `_ENV` of a compiled chunk, as for spawn: 'fresh' (default), 'sandbox' or a table. Ignored for a LuaRef function. */
  env?: 'fresh' | 'sandbox' | LuaRef;
  /** Arguments the chunk sees as `...` (or the function receives). */
  args?: readonly LuaValue[];
  /**
   * CPU limit of this call in ms; defaults to the VM's maxRunMs; 0 = no own limit. Inside another run (a JS
   * function called from a thread or a call), the enclosing run's deadline still applies if it is sooner.
   */
  maxRunMs?: number;
}

export interface LuaVmStats {
  /** Values left on the main stack (0 between calls). */
  stackTop: number;
  /** Values left on the stack of the thread vm.call runs on (0 between calls; -1 while a call runs). */
  callStackTop: number;
  /** Lua heap as collectgarbage("count") reports it, in bytes. */
  luaBytes: number;
  /** Bytes counted by the capped allocator (only with memoryMaxBytes). */
  allocatedBytes: number | undefined;
  /** Size of the wasm linear memory (never shrinks). */
  wasmHeapBytes: number;
  /** Entries in the Lua registry (refs, pooled threads, ...). */
  registryEntries: number;
  /** Idle Lua threads kept for reuse. */
  pooledThreads: number;
}

const NO_OPTIONS: SpawnOptions & CallOptions = Object.freeze({});
const NO_ARGS: readonly LuaValue[] = Object.freeze([]);

export class LuaVm {
  readonly #rt: Runtime;

  private constructor(rt: Runtime) {
    this.#rt = rt;
  }

  static async create(options: LuaVmOptions = {}): Promise<LuaVm> {
    const maxRunMs = options.maxRunMs ?? 1000;
    const hookEvery = options.hookEvery ?? DEFAULT_HOOK_EVERY;
    if (!(maxRunMs >= 0)) throw new RangeError(`maxRunMs must be >= 0, got ${maxRunMs}`);
    if (!(Number.isInteger(hookEvery) && hookEvery > 0)) throw new RangeError(`hookEvery must be a positive integer, got ${hookEvery}`);
    if (options.memoryMaxBytes !== undefined && !(options.memoryMaxBytes > 0)) {
      throw new RangeError(`memoryMaxBytes must be > 0, got ${options.memoryMaxBytes}`);
    }
    const m = await loadLuaModule();
    const limits = options.limits ?? maxRunMs > 0;
    return new LuaVm(new Runtime(m, { maxRunMs: limits && maxRunMs === 0 ? Infinity : maxRunMs, hookEvery, memoryMaxBytes: options.memoryMaxBytes }));
  }

  #live(): Runtime {
    if (this.#rt.closed) throw new LuaVmError('PHASEKIT_ERR_LUA_VM_CLOSED', 'the Lua VM was closed');
    return this.#rt;
  }

  /** The globals compiled chunks see (through their env's __index): string, table, math, pcall, ... */
  get sandbox(): LuaRef {
    return this.#rt.sandbox;
  }

  /** The real global table, where run() code executes (full standard library: trusted code only). */
  get globals(): LuaRef {
    return this.#rt.globals;
  }

  /**
   * Runs trusted code once in the real global table (boot code, module definitions) and returns its
   * results; tables and functions come back as LuaRefs. `args` are the chunk's `...`. The code must not
   * wait on JS. Throws LuaSyntaxError, or LuaRuntimeError (code PHASEKIT_ERR_LUA_CPU_LIMIT when stopped).
   */
  run(source: string | Uint8Array, chunkName: string, ...args: LuaValue[]): LuaValue[] {
    const rt = this.#live();
    const loaded = rt.loadTrusted(source, chunkName);
    if (typeof loaded === 'string') throw new LuaSyntaxError(loaded, chunkName);
    let slot: ThreadSlot;
    try {
      slot = rt.newSlot(
        (T) => {
          rt.moveFromMain(T);
          rt.pushValues(T, args);
          return args.length;
        },
        rt.maxRunMs,
        'thread',
        true,
      );
    } finally {
      rt.m._lua_settop(rt.L, loaded);
    }
    const th = new LuaThread(rt, slot);
    const r = th.resume();
    switch (r.status) {
      case 'done':
        return r.values;
      case 'error':
        throw new LuaRuntimeError(r.message, r.traceback, r.killed ? 'PHASEKIT_ERR_LUA_CPU_LIMIT' : 'PHASEKIT_ERR_LUA_RUNTIME');
      case 'yield':
        th.close();
        throw new LuaVmError('PHASEKIT_ERR_LUA_THREAD_STATE', `${chunkName}: run() code yielded; use compile() + spawn() + drive() for code that waits`);
    }
  }

  /**
   * Compiles a handler chunk once. Each spawn runs it with its own `_ENV` (see SpawnOptions.env); line
   * numbers in errors are those of `source`, messages read `chunkName:LINE: msg` (Lua keeps the first
   * 59 bytes of the name). Throws LuaSyntaxError with Lua's message.
   */
  compile(source: string | Uint8Array, chunkName: string): LuaChunk {
    const r = this.#live().compile(source, chunkName);
    if (typeof r === 'string') throw new LuaSyntaxError(r, chunkName);
    return new LuaChunk(chunkName, r);
  }

  /** A new thread ready to run a compiled chunk or a Lua function; start it with resume() or drive(). */
  spawn(target: LuaChunk | LuaRef, options: SpawnOptions = NO_OPTIONS): LuaThread {
    const rt = this.#live();
    const slot = rt.spawnSlot(target, options.env ?? 'fresh', options.args ?? NO_ARGS, options.maxRunMs ?? rt.maxRunMs, options.limitScope ?? 'thread');
    return new LuaThread(rt, slot);
  }

  /**
   * Runs a compiled chunk or a Lua function to completion, synchronously, without a thread: the fast path
   * for handlers that may not wait (OpenResty's set, header_filter, body_filter and log phases).
   * Returns `{ status: 'done', values }` or `{ status: 'error', message, traceback, killed }` like a
   * thread; the traceback is taken where the error was raised. The CPU limit applies (`killed` when it
   * stopped the call; pcall cannot catch it). A JS function that tries to wait (`call.yield`) raises a Lua
   * error instead ("attempt to yield inside vm.call ..."), catchable by pcall. JS functions called from it
   * may call vm.call again or run threads (Lua/JS nesting deeper than 200 levels raises "C stack
   * overflow"). Throws only for values Lua cannot hold (and a released chunk or ref).
   */
  call(target: LuaChunk | LuaRef, options: CallOptions = NO_OPTIONS): CallResult {
    const rt = this.#live();
    return rt.call(target, options.env ?? 'fresh', options.args ?? NO_ARGS, options.maxRunMs ?? rt.maxRunMs);
  }

  /**
   * A Lua function that calls `fn` (through the one C dispatcher). Keep the ref, or store the function in
   * a table; the JS function stays registered until the VM closes.
   */
  createFunction(fn: LuaFunction, name = '?'): LuaRef {
    return this.#live().createFunction(fn, name);
  }

  /** createFunction + set it as `table[name]` (default table: the real globals). */
  defineFunction(name: string, fn: LuaFunction, table: LuaRef = this.#rt.globals): void {
    const ref = this.createFunction(fn, name);
    try {
      this.setField(table, name, ref);
    } finally {
      ref.release();
    }
  }

  /** A new empty table, anchored. */
  newTable(): LuaRef {
    return this.#live().newTable();
  }

  /**
   * The NULL light userdata, anchored: OpenResty's `ngx.null` and `cjson.null` (type "userdata",
   * equal to itself only).
   */
  nullUserdata(): LuaRef {
    const rt = this.#live();
    rt.m._lua_pushlightuserdata(rt.L, 0);
    const ref = rt.refAt(rt.L, -1);
    rt.m._lua_settop(rt.L, -2);
    return ref;
  }

  /** A new env table whose misses fall back to the sandbox globals (what 'fresh' creates per run). */
  newEnv(): LuaRef {
    return this.#live().newEnv();
  }

  /** rawset(table, key, value). */
  setField(table: LuaRef, key: string, value: LuaValue): void {
    const rt = this.#live();
    const L = rt.L;
    const top = rt.m._lua_gettop(L);
    try {
      rt.pushValue(L, table);
      rt.heap.pushString(L, key);
      rt.pushValue(L, value);
      rt.m._lua_rawset(L, -3);
    } finally {
      rt.m._lua_settop(L, top);
    }
  }

  /** rawget(table, key); tables and functions come back as LuaRefs. */
  getField(table: LuaRef, key: string): LuaValue {
    const rt = this.#live();
    const L = rt.L;
    const top = rt.m._lua_gettop(L);
    try {
      rt.pushValue(L, table);
      rt.heap.pushString(L, key);
      rt.m._lua_rawget(L, -2);
      return rt.valueAt(L, -1, true);
    } finally {
      rt.m._lua_settop(L, top);
    }
  }

  /**
   * A deadline (a performance.now() time) over every run from now on, whatever their own maxRunMs:
   * threads and calls take the sooner of the two, and one stopped by it fails with `message` (and
   * `killed`). Infinity removes it. For a budget spread over many runs (a request's phases).
   */
  setOuterDeadline(deadline: number, message: string): void {
    const lim = this.#rt.limiter;
    lim.outer = deadline;
    lim.outerMessage = message;
  }

  /** The deadline setOuterDeadline set (Infinity when none). */
  get outerDeadline(): number {
    return this.#rt.limiter.outer;
  }

  /** The message setOuterDeadline set. */
  get outerMessage(): string {
    return this.#rt.limiter.outerMessage;
  }

  /** Full garbage collection of the Lua heap. */
  collectGarbage(): void {
    this.#live().gc();
  }

  stats(): LuaVmStats {
    const rt = this.#live();
    const { luaKb, registryEntries } = rt.stats();
    return {
      stackTop: rt.m._lua_gettop(rt.L),
      callStackTop: rt.callStackTop,
      luaBytes: Math.round(luaKb * 1024),
      allocatedBytes: rt.memoryUsed,
      wasmHeapBytes: rt.heap.memoryBytes,
      registryEntries,
      pooledThreads: rt.poolSize,
    };
  }

  get closed(): boolean {
    return this.#rt.closed;
  }

  /** Size of the wasm linear memory (it never shrinks; closing the VM lets it go). */
  get wasmMemoryBytes(): number {
    return this.#rt.heap.memoryBytes;
  }

  /** Closes the Lua state; every ref, chunk and thread of this VM becomes unusable. */
  close(): void {
    this.#rt.close();
  }
}
