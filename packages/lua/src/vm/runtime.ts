// The bridge mechanics behind LuaVm: state, registry refs, the one C dispatcher, continuations, threads and resume.
import { BOOT_LUA } from './boot.js';
import { ARG_ERROR, LuaCall, LuaRaise, RAISE, YIELD, type LuaFunction, type OnResume, type Wait } from './call.js';
import { LuaVmError } from './errors.js';
import { CpuLimiter } from './hook.js';
import { addRep } from './rep.js';
import { LuaChunk, LuaOpaque, LuaRef, typeName, type LuaValue, type RefOwner } from './ref.js';
import {
  Heap,
  LUA_MULTRET,
  LUA_OK,
  LUA_REGISTRYINDEX as REG,
  LUA_YIELD,
  T_BOOLEAN,
  T_FUNCTION,
  T_LIGHTUSERDATA,
  T_NIL,
  T_NONE,
  T_NUMBER,
  T_STRING,
  T_TABLE,
  T_THREAD,
  T_USERDATA,
  upvalueIndex,
  type LuaModule,
  type LuaState,
} from './wasm.js';

export interface RuntimeOptions {
  maxRunMs: number;
  hookEvery: number;
  memoryMaxBytes: number | undefined;
}

interface FnEntry {
  fn: LuaFunction;
  name: string;
}

/** How a suspended thread is being resumed. */
export type Outcome = { kind: 'values'; count: number } | { kind: 'resolve'; value: unknown } | { kind: 'reject'; reason: unknown };

/** Per-thread state shared by LuaThread and the runtime. Pooled together with its Lua thread. */
export interface ThreadSlot {
  readonly L: LuaState;
  readonly ref: number;
  readonly key: bigint;
  /** Values pushed by spawn, not yet handed to the first resume. */
  pendingArgs: number;
  started: boolean;
  wait: Wait | null;
  outcome: Outcome | null;
  cpuMs: number;
  maxRunMs: number;
  /** 'thread': maxRunMs bounds the sum over all resumes; 'resume': each resume gets maxRunMs afresh. */
  limitScope: LimitScope;
  anchorResults: boolean;
}

export type LimitScope = 'thread' | 'resume';

export interface Done {
  status: 'done';
  values: LuaValue[];
}
export interface Yielded {
  status: 'yield';
  /** True when a JS function suspended the thread with call.yield(value); false for a Lua coroutine.yield. */
  fromJs: boolean;
  /** The value given to call.yield (undefined for a Lua-side yield). */
  value: unknown;
  /** Values a Lua-side coroutine.yield passed (empty for JS waits). */
  values: LuaValue[];
}
export interface Failure {
  status: 'error';
  /** The error value as text (`chunk:line: msg`; tables are described readably). */
  message: string;
  /** `debug.traceback(co, message)` of the failed thread. */
  traceback: string;
  /** True when the CPU limit stopped the thread. */
  killed: boolean;
}
export type ResumeResult = Done | Yielded | Failure;
/** What vm.call returns: a call runs to completion, it never yields. */
export type CallResult = Done | Failure;

/** `_ENV` of a compiled chunk's run. */
export type ChunkEnv = 'fresh' | 'sandbox' | LuaRef;

const POOL_MAX = 128;
/** Bytes allocated between two clock checks of the allocator (C work that allocates is timed this way). */
const ALLOC_CHECK_BYTES = 1 << 20;
/**
 * Lua -> JS -> Lua nesting (JS functions running vm.call or resuming threads, recursively) deeper than
 * this raises a Lua error. Lua counts C levels per thread (LUAI_MAXCCALLS = 200, handed on by
 * lua_resume's `from`), but a vm.call's lua_pcallk starts the call thread's own count, so only this
 * bounds chains mixing the two before the JS stack runs out.
 */
export const MAX_NESTING = 200;
/** The outcome of a plain resume with no values (allocated once). */
export const NO_VALUES: Outcome = { kind: 'values', count: 0 };

function isThenable(v: unknown): boolean {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

function reasonMessage(reason: unknown): string {
  if (reason instanceof Error) return reason.message;
  if (typeof reason === 'string') return reason;
  try {
    return String(reason);
  } catch {
    return 'unknown error';
  }
}

export class Runtime implements RefOwner {
  readonly m: LuaModule;
  readonly heap: Heap;
  /** Main state: used for helper calls and as the parent of every thread; never resumed. */
  readonly L: LuaState;
  readonly limiter: CpuLimiter;
  readonly maxRunMs: number;
  closed = false;

  readonly sandbox: LuaRef;
  readonly globals: LuaRef;
  readonly #envMt: LuaRef;
  readonly #hosted: LuaRef;
  readonly #compileFn: LuaRef;
  readonly #loadFn: LuaRef;
  readonly #failureFn: LuaRef;
  readonly #describeFn: LuaRef;
  readonly #statsFn: LuaRef;
  readonly #gcFn: LuaRef;

  readonly #marker: number;
  readonly #dispatchPtr: number;
  readonly #repPtr: number;
  readonly #continuePtr: number;
  readonly #msghPtr: number;
  readonly #allocPtr: number;
  readonly #memory = { used: 0, max: Infinity, sinceCheck: 0 };

  readonly #fns: (FnEntry | undefined)[] = [undefined];
  readonly #calls: LuaCall[] = [];
  #depth = 0;
  #argError = 0;
  #argMessage = 0;
  readonly #pool: ThreadSlot[] = [];
  #current: ThreadSlot | null = null;
  /** The Lua state whose code is running (a thread in resume, the call thread in vm.call); 0 when idle. */
  #running: LuaState = 0;
  /**
   * The call thread: vm.call runs here with lua_pcallk. Anchored, marked host-driven; its stack holds the
   * message handler at index 1 while idle. Nested vm.calls (from JS functions) run on top of it.
   */
  readonly #C: LuaState;
  #callDepth = 0;
  /** Set by the message handler of the failing vm.call, read right after its lua_pcallk returns. */
  #failMessage: string | undefined = undefined;
  #failTraceback: string | undefined = undefined;

  constructor(m: LuaModule, options: RuntimeOptions) {
    this.m = m;
    this.heap = new Heap(m);
    this.maxRunMs = options.maxRunMs;
    const mem = this.#memory;
    if (options.memoryMaxBytes !== undefined || options.maxRunMs > 0) {
      // Lua's allocator in JS so the heap can be capped (refusing an allocation makes Lua raise "not enough
      // memory") and C work that allocates is timed: every ALLOC_CHECK_BYTES it checks the CPU deadline.
      this.#allocPtr = m.addFunction((_ud: number, ptr: number, osize: number, nsize: number): number => {
        if (nsize === 0) {
          if (ptr !== 0) {
            mem.used -= osize;
            m._free(ptr);
          }
          return 0;
        }
        const delta = ptr !== 0 ? nsize - osize : nsize;
        if (delta > 0) {
          if (mem.used + delta > mem.max) return 0;
          if ((mem.sinceCheck += delta) > ALLOC_CHECK_BYTES) this.#allocCheck();
        }
        const p = m._realloc(ptr, nsize);
        if (p !== 0) mem.used += delta;
        return p;
      }, 'iiiii');
      this.L = m._lua_newstate(this.#allocPtr, 0);
    } else {
      this.#allocPtr = 0;
      this.L = m._luaL_newstate();
    }
    if (this.L === 0) throw new LuaVmError('PHASEKIT_ERR_LUA_RUNTIME', 'could not create a Lua state (out of memory)');
    const L = this.L;
    m._luaL_openlibs(L);
    this.#repPtr = addRep(m, this.heap);
    m._lua_rawgeti(L, REG, 2n); // LUA_RIDX_GLOBALS
    m._lua_getfield(L, -1, this.heap.cString('string'));
    m._lua_pushcclosure(L, this.#repPtr, 0);
    m._lua_setfield(L, -2, this.heap.cString('rep'));
    m._lua_settop(L, 0);

    this.#marker = m._malloc(1);
    this.#dispatchPtr = m.addFunction(this.#dispatch, 'ii');
    this.#continuePtr = m.addFunction(this.#continue, 'iiii');
    this.#msghPtr = m.addFunction(this.#msgh, 'ii');

    m._lua_createtable(L, 2, 0);
    const killKey = BigInt(m._luaL_ref(L, REG));
    this.limiter = new CpuLimiter(m, this.heap, killKey);

    // Boot: sandbox + helpers, run in the real global table before any hook or thread exists.
    if (this.heap.load(L, Buffer.from(BOOT_LUA), '=phasekit.vm.boot') !== LUA_OK) {
      throw new LuaVmError('PHASEKIT_ERR_LUA_RUNTIME', `VM boot failed: ${this.heap.stringAt(L, -1) ?? '?'}`);
    }
    m._lua_rawgeti(L, REG, killKey);
    m._lua_pushlightuserdata(L, this.#marker);
    if (m._lua_pcallk(L, 2, 1, 0, 0, 0) !== LUA_OK) {
      throw new LuaVmError('PHASEKIT_ERR_LUA_RUNTIME', `VM boot failed: ${this.heap.stringAt(L, -1) ?? '?'}`);
    }
    const field = (name: string): LuaRef => {
      m._lua_getfield(L, -1, this.heap.cString(name));
      return this.#refTop(L);
    };
    this.sandbox = field('sandbox');
    this.#envMt = field('env_mt');
    this.#hosted = field('hosted');
    this.#compileFn = field('compile');
    this.#loadFn = field('load');
    this.#failureFn = field('failure');
    this.#describeFn = field('describe');
    this.#statsFn = field('stats');
    this.#gcFn = field('gc');
    m._lua_settop(L, 0);
    m._lua_rawgeti(L, REG, 2n); // LUA_RIDX_GLOBALS
    this.globals = this.#refTop(L);

    // The call thread (created before the hook is installed: lua_sethook below reaches it explicitly).
    this.#C = this.#newHostedThread();
    m._lua_pushcclosure(this.#C, this.#msghPtr, 0);

    if (options.maxRunMs > 0) {
      this.limiter.install(L, options.hookEvery);
      this.limiter.install(this.#C, options.hookEvery);
    }
    if (options.memoryMaxBytes !== undefined) mem.max = options.memoryMaxBytes;
  }

  /** The allocator's clock check: past the deadline, the running thread's hook fires at its next instruction. */
  #allocCheck(): void {
    this.#memory.sinceCheck = 0;
    const lim = this.limiter;
    if (lim.deadline === Infinity || performance.now() <= lim.deadline) return;
    // (The thread the host runs: a user coroutine inside it is stopped once it hands control back.)
    lim.force(this.#running);
  }

  get memoryUsed(): number | undefined {
    return this.#allocPtr !== 0 ? this.#memory.used : undefined;
  }

  // ---------------------------------------------------------------- refs and values

  #refTop(L: LuaState): LuaRef {
    const t = this.m._lua_type(L, -1);
    return new LuaRef(this, this.m._luaL_ref(L, REG), typeName(t));
  }

  /** Anchors the value at idx (stack unchanged). */
  refAt(L: LuaState, idx: number): LuaRef {
    this.m._lua_pushvalue(L, idx);
    return this.#refTop(L);
  }

  unref(index: number): void {
    this.m._luaL_unref(this.L, REG, index);
  }

  // Finalizers run between event-loop tasks, never in the middle of a Lua call, so unref is safe there.
  readonly #finalizer = new FinalizationRegistry<number>((index) => {
    if (!this.closed) this.unref(index);
  });

  track(ref: LuaRef, index: number): void {
    this.#finalizer.register(ref, index, ref);
  }

  untrack(ref: LuaRef): void {
    this.#finalizer.unregister(ref);
  }

  valueAt(L: LuaState, idx: number, anchor: boolean): LuaValue {
    const m = this.m;
    switch (m._lua_type(L, idx)) {
      case T_NIL:
      case T_NONE:
        return null;
      case T_BOOLEAN:
        return m._lua_toboolean(L, idx) !== 0;
      case T_NUMBER: {
        // One float read covers every integer within ±2^53 (no BigInt); only larger integers need the exact path.
        const d = m._lua_tonumberx(L, idx, 0);
        if (Number.isSafeInteger(d) || m._lua_isinteger(L, idx) === 0) return d;
        const b = m._lua_tointegerx(L, idx, 0);
        const n = Number(b);
        return Number.isSafeInteger(n) ? n : b;
      }
      case T_STRING:
        return this.heap.exactAt(L, idx);
      case T_TABLE:
        return anchor ? this.refAt(L, idx) : LuaOpaque.table;
      case T_FUNCTION:
        return anchor ? this.refAt(L, idx) : LuaOpaque.function;
      case T_THREAD:
        return anchor ? this.refAt(L, idx) : LuaOpaque.thread;
      case T_USERDATA:
      case T_LIGHTUSERDATA:
      default:
        return anchor ? this.refAt(L, idx) : LuaOpaque.userdata;
    }
  }

  valuesAt(L: LuaState, first: number, count: number, anchor: boolean): LuaValue[] {
    if (count === 0) return [];
    if (count === 1) return [this.valueAt(L, first, anchor)];
    const out = new Array<LuaValue>(count);
    for (let i = 0; i < count; i++) out[i] = this.valueAt(L, first + i, anchor);
    return out;
  }

  pushValue(L: LuaState, v: LuaValue): void {
    const m = this.m;
    if (v === null || v === undefined) {
      m._lua_pushnil(L);
      return;
    }
    switch (typeof v) {
      case 'boolean':
        m._lua_pushboolean(L, v ? 1 : 0);
        return;
      case 'number':
        if (Number.isSafeInteger(v)) m._lua_pushinteger(L, BigInt(v));
        else m._lua_pushnumber(L, v);
        return;
      case 'bigint':
        if (v !== BigInt.asIntN(64, v)) throw new LuaVmError('PHASEKIT_ERR_LUA_VALUE', `integer ${v} does not fit in a Lua integer (64 bits)`);
        m._lua_pushinteger(L, v);
        return;
      case 'string':
        this.heap.pushString(L, v);
        return;
      default:
        break;
    }
    if (v instanceof Uint8Array) {
      this.heap.pushBytes(L, v);
    } else if (v instanceof LuaRef) {
      if (!v.isOwnedBy(this)) throw new LuaVmError('PHASEKIT_ERR_LUA_VALUE', v.released ? 'LuaRef was released' : 'LuaRef belongs to another VM');
      m._lua_rawgeti(L, REG, v.key);
    } else {
      const what = v instanceof LuaOpaque ? `an unanchored Lua ${v.type}` : typeof v;
      throw new LuaVmError('PHASEKIT_ERR_LUA_VALUE', `cannot pass ${what} to Lua`);
    }
  }

  /** Pushes the value a LuaRef anchors (the LuaRef branch of pushValue). */
  pushRef(L: LuaState, v: LuaRef): void {
    if (!v.isOwnedBy(this)) throw new LuaVmError('PHASEKIT_ERR_LUA_VALUE', v.released ? 'LuaRef was released' : 'LuaRef belongs to another VM');
    this.m._lua_rawgeti(L, REG, v.key);
  }

  pushValues(L: LuaState, values: readonly LuaValue[]): void {
    if (values.length === 0) return;
    if (values.length > 16 && this.m._lua_checkstack(L, values.length + 8) === 0) {
      throw new LuaVmError('PHASEKIT_ERR_LUA_VALUE', `too many values for the Lua stack (${values.length})`);
    }
    const top = this.m._lua_gettop(L);
    try {
      for (const v of values) this.pushValue(L, v);
    } catch (e) {
      this.m._lua_settop(L, top);
      throw e;
    }
  }

  pushTable(L: LuaState, from: readonly LuaValue[] | Readonly<Record<string, LuaValue>>): void {
    const m = this.m;
    if (Array.isArray(from)) {
      const list = from as readonly LuaValue[];
      m._lua_createtable(L, list.length, 0);
      for (let i = 0; i < list.length; i++) {
        this.pushValue(L, list[i]);
        m._lua_rawseti(L, -2, BigInt(i + 1));
      }
      return;
    }
    const keys = Object.keys(from);
    m._lua_createtable(L, 0, keys.length);
    const record = from as Readonly<Record<string, LuaValue>>;
    for (const k of keys) {
      this.heap.pushString(L, k);
      this.pushValue(L, record[k]);
      m._lua_rawset(L, -3);
    }
  }

  // ---------------------------------------------------------------- helper calls on the main state

  /** Calls a helper on the main state in protected mode on the helper budget (see CpuLimiter.bounded); returns the stack base. */
  #helper(fn: LuaRef, push: (L: LuaState) => number, nres: number): number {
    const m = this.m;
    const L = this.L;
    const base = m._lua_gettop(L);
    let status: number;
    try {
      status = this.limiter.bounded(L, () => {
        m._lua_rawgeti(L, REG, fn.key);
        return m._lua_pcallk(L, push(L), nres, 0, 0, 0);
      });
    } catch (e) {
      m._lua_settop(L, base);
      throw e;
    }
    if (status !== LUA_OK) {
      const msg = this.heap.stringAt(L, -1) ?? `status ${status}`;
      m._lua_settop(L, base);
      throw new LuaVmError('PHASEKIT_ERR_LUA_RUNTIME', `internal Lua helper failed: ${msg}`);
    }
    return base;
  }

  /** Runs a loader helper (f, err = loader(source, name)); leaves f on the main stack and returns the base, or the error. */
  #load(loader: LuaRef, source: string | Uint8Array, chunkName: string): number | string {
    const m = this.m;
    const L = this.L;
    const base = this.#helper(
      loader,
      (L) => {
        this.pushValue(L, source);
        this.heap.pushString(L, chunkName);
        return 2;
      },
      2,
    );
    if (m._lua_type(L, base + 1) === T_NIL) {
      const msg = this.heap.stringAt(L, base + 2) ?? 'syntax error';
      m._lua_settop(L, base);
      return msg;
    }
    m._lua_settop(L, base + 1);
    return base;
  }

  /** Compiles `source` as a handler factory; returns its ref, or the syntax error message. */
  compile(source: string | Uint8Array, chunkName: string): LuaRef | string {
    const base = this.#load(this.#compileFn, source, chunkName);
    return typeof base === 'string' ? base : this.#refTop(this.L);
  }

  /** Loads trusted code (real global table); leaves the function on the main stack, or returns the error. */
  loadTrusted(source: string | Uint8Array, chunkName: string): number | string {
    return this.#load(this.#loadFn, source, chunkName);
  }

  /** Message and traceback for a failed (or killed) thread whose error value is on top of its stack. */
  #failure(slot: ThreadSlot, killMessage: string | undefined): { message: string; traceback: string } {
    const m = this.m;
    const L = this.L;
    const T = slot.L;
    try {
      const base = this.#helper(
        this.#failureFn,
        (L) => {
          m._lua_rawgeti(L, REG, slot.key);
          if (killMessage !== undefined) this.heap.pushString(L, killMessage);
          else if (m._lua_gettop(T) > 0) m._lua_xmove(T, L, 1);
          else m._lua_pushnil(L);
          return 2;
        },
        2,
      );
      const message = this.heap.stringAt(L, base + 1) ?? '?';
      const traceback = this.heap.stringAt(L, base + 2) ?? message;
      m._lua_settop(L, base);
      return { message, traceback };
    } catch {
      const message = killMessage ?? '(error value could not be described)';
      return { message, traceback: message };
    }
  }

  stats(): { luaKb: number; registryEntries: number } {
    const m = this.m;
    const base = this.#helper(this.#statsFn, () => 0, 2);
    const luaKb = m._lua_tonumberx(this.L, base + 1, 0);
    const registryEntries = m._lua_tonumberx(this.L, base + 2, 0);
    m._lua_settop(this.L, base);
    return { luaKb, registryEntries };
  }

  gc(): void {
    const base = this.#helper(this.#gcFn, () => 0, 0);
    this.m._lua_settop(this.L, base);
  }

  get poolSize(): number {
    return this.#pool.length;
  }

  // ---------------------------------------------------------------- JS functions

  createFunction(fn: LuaFunction, name: string): LuaRef {
    const m = this.m;
    const id = this.#fns.length;
    this.#fns.push({ fn, name });
    m._lua_pushlightuserdata(this.L, id);
    m._lua_pushcclosure(this.L, this.#dispatchPtr, 1);
    return this.#refTop(this.L);
  }

  /** The one C function behind every JS function: upvalue 1 is the index of the JS function. */
  readonly #dispatch = (L: LuaState): number => {
    const m = this.m;
    const entry = this.#fns[m._lua_touserdata(L, upvalueIndex(1))];
    if (entry === undefined) return 0;
    return this.#invoke(L, 0, m._lua_gettop(L), entry.fn, entry.name, undefined);
  };

  /** Continuation of a JS function that yielded: runs when the host resumes the thread. */
  readonly #continue = (L: LuaState): number => {
    const slot = this.#current;
    const wait = slot?.wait ?? null;
    const outcome = slot?.outcome ?? null;
    if (slot === null || wait === null || outcome === null) return 0;
    slot.wait = null;
    slot.outcome = null;
    const m = this.m;
    switch (outcome.kind) {
      case 'values': {
        if (wait.onResume === undefined) return outcome.count;
        const top = m._lua_gettop(L);
        return this.#invoke(L, top - outcome.count, outcome.count, wait.onResume, 'yield', undefined);
      }
      case 'resolve': {
        const onResume: OnResume = wait.onResume ?? defaultOnResume;
        return this.#invoke(L, m._lua_gettop(L), 0, onResume, 'yield', outcome.value);
      }
      case 'reject': {
        const err = new LuaRaise(reasonMessage(outcome.reason), 1, 0);
        return this.#invoke(L, m._lua_gettop(L), 0, () => { throw err; }, 'yield', undefined);
      }
    }
  };

  #invoke(L: LuaState, base: number, argc: number, fn: LuaFunction | OnResume, name: string, value: unknown): number {
    if (this.#depth >= MAX_NESTING) {
      this.heap.pushString(L, `C stack overflow (Lua and JS functions nested more than ${MAX_NESTING} levels deep)`);
      return this.m._lua_error(L);
    }
    const depth = this.#depth++;
    let call = this.#calls[depth];
    if (call === undefined) {
      call = new LuaCall(this);
      this.#calls[depth] = call;
    }
    call.enter(L, base, argc, name);
    let n: number;
    let wait: Wait | null = null;
    try {
      const r = (fn as OnResume)(call, value);
      n = typeof r === 'number' ? r : 0;
    } catch (e) {
      // Infinity is emscripten's longjmp (a Lua error unwinding through this frame): let it pass.
      if (e === Infinity) throw e;
      n = this.#prepareRaise(L, e);
    } finally {
      wait = call.leave();
      this.#depth = depth;
    }
    if (n >= 0) return n;
    if (n === YIELD && wait !== null) return this.#yield(L, wait);
    if (n === ARG_ERROR) return this.m._luaL_argerror(L, this.#argError, this.#argMessage);
    if (n !== RAISE) {
      this.heap.pushString(L, `JS function '${name}' returned an invalid result count (${n})`);
    }
    return this.m._lua_error(L);
  }

  #prepareRaise(L: LuaState, e: unknown): number {
    const m = this.m;
    let message: string;
    let level = 1;
    if (e instanceof LuaRaise) {
      if (e.arg > 0) {
        this.#argError = e.arg;
        this.#argMessage = this.heap.cString(e.message);
        return ARG_ERROR;
      }
      message = e.message;
      level = e.level;
    } else {
      message = reasonMessage(e);
    }
    if (level > 0) {
      m._luaL_where(L, level);
      this.heap.pushString(L, message);
      m._lua_concat(L, 2);
    } else {
      this.heap.pushString(L, message);
    }
    return RAISE;
  }

  #yield(L: LuaState, wait: Wait): number {
    const m = this.m;
    const slot = this.#current;
    if (slot === null || m._lua_isyieldable(L) === 0) {
      let why: string;
      if (slot === null && this.#callDepth > 0) why = 'attempt to yield inside vm.call (a call that runs to completion): cannot wait on JS here';
      else if (slot === null) why = 'cannot wait on JS outside a Lua thread';
      else why = 'cannot wait on JS here (across a C-call boundary such as table.sort or a metamethod)';
      m._luaL_where(L, 1);
      this.heap.pushString(L, why);
      m._lua_concat(L, 2);
      return m._lua_error(L);
    }
    slot.wait = wait;
    m._lua_pushlightuserdata(L, this.#marker);
    return m._lua_yieldk(L, 1, 0, this.#continuePtr);
  }

  // ---------------------------------------------------------------- vm.call: run to completion with lua_pcallk

  /**
   * Runs a compiled chunk (with `env`) or a Lua function on the call thread in protected mode and returns
   * its results, or the error with a traceback taken where it was raised. Nothing can yield in here: a JS
   * function's call.yield raises a Lua error, and a CPU-limit kill raises (kill flag + sandbox pcall
   * wrappers keep user code from catching it). `maxRunMs` 0: no own limit (an enclosing run's still applies).
   */
  call(target: LuaChunk | LuaRef, env: ChunkEnv, args: readonly LuaValue[], maxRunMs: number): CallResult {
    const m = this.m;
    const C = this.#C;
    const depth = this.#callDepth;
    let base: number;
    let msgh: number;
    if (depth === 0) {
      // Idle call thread: [1] is the message handler.
      base = 1;
      msgh = 1;
      if (args.length > 12 && m._lua_checkstack(C, args.length + 4) === 0) throw tooManyValues(args.length);
    } else {
      // Nested (a JS function called from a vm.call calls vm.call): run above the caller's frame.
      if (m._lua_checkstack(C, args.length + 8) === 0) throw tooManyValues(args.length);
      base = m._lua_gettop(C);
      m._lua_pushcclosure(C, this.#msghPtr, 0);
      msgh = base + 1;
    }
    let nargs = args.length;
    try {
      if (target instanceof LuaChunk) {
        this.pushRef(C, target.factory);
        this.#pushEnv(C, env);
        nargs++;
      } else {
        this.pushValue(C, target);
      }
      for (let i = 0; i < args.length; i++) this.pushValue(C, args[i]);
    } catch (e) {
      m._lua_settop(C, base);
      throw e;
    }

    const lim = this.limiter;
    const prevDeadline = lim.deadline;
    const prevLimit = lim.limitMs;
    const prevKilled = lim.killed;
    const prevCurrent = this.#current;
    const prevRunning = this.#running;
    lim.killed = false;
    if (maxRunMs > 0 && this.maxRunMs > 0) {
      // Nested in another run, the tighter deadline wins: a call cannot stretch its caller's budget.
      const deadline = performance.now() + maxRunMs;
      if (deadline < prevDeadline) {
        lim.deadline = deadline;
        lim.limitMs = maxRunMs;
      }
    }
    if (lim.outer < lim.deadline) lim.deadline = lim.outer;
    this.#current = null;
    this.#running = C;
    this.#callDepth = depth + 1;
    this.#failMessage = undefined;
    this.#failTraceback = undefined;
    let status: number;
    let killed: boolean;
    let limitMs: number;
    try {
      status = m._lua_pcallk(C, nargs, LUA_MULTRET, msgh, 0, 0);
    } finally {
      lim.unforce();
      killed = lim.killed;
      limitMs = lim.limitMs;
      this.#callDepth = depth;
      this.#current = prevCurrent;
      this.#running = prevRunning;
      lim.deadline = prevDeadline;
      lim.limitMs = prevLimit;
      lim.killed = prevKilled;
    }
    if (status === LUA_OK && !killed) {
      const nres = m._lua_gettop(C) - msgh;
      const values = this.valuesAt(C, msgh + 1, nres, false);
      m._lua_settop(C, base);
      return { status: 'done', values };
    }
    // (Set by the message handler during the pcall: TS cannot see that.)
    let message = this.#failMessage as string | undefined;
    let traceback = this.#failTraceback as string | undefined;
    this.#failMessage = undefined;
    this.#failTraceback = undefined;
    if (killed) {
      const prev = lim.limitMs;
      lim.limitMs = limitMs;
      message = lim.message();
      lim.limitMs = prev;
      lim.clearFlag(this.L);
    } else if (message === undefined) {
      // No handler ran (out of memory, error in the handler): the error value is all there is.
      message = (m._lua_type(C, -1) === T_STRING ? this.heap.stringAt(C, -1) : undefined) ?? `error status ${status}`;
      traceback = undefined;
    }
    m._lua_settop(C, base);
    return { status: 'error', message, traceback: traceback ?? message, killed };
  }

  /**
   * Message handler of vm.call (a C function): describes the error value like a thread failure and takes
   * `debug.traceback` at the error point, on the helper budget, and hands both to JS.
   */
  readonly #msgh = (L: LuaState): number => {
    const m = this.m;
    try {
      // Stack: [1] = error value.
      if (m._lua_type(L, 1) !== T_STRING) {
        m._lua_rawgeti(L, REG, this.#describeFn.key);
        m._lua_pushvalue(L, 1);
        const status = this.limiter.bounded(L, () => m._lua_pcallk(L, 1, 1, 0, 0, 0));
        if (status !== LUA_OK || m._lua_type(L, -1) !== T_STRING) {
          m._lua_settop(L, 1);
          this.heap.pushString(L, '(error value could not be described)');
        }
      } else {
        m._lua_pushvalue(L, 1);
      }
      // [2] = message. Level 1: the function that raised (level 0 is this handler), as debug.traceback(co, msg) shows a failed thread.
      const message = this.heap.stringAt(L, 2) ?? '?';
      m._luaL_traceback(L, L, m._lua_tolstring(L, 2, 0), 1);
      this.#failMessage = message;
      this.#failTraceback = this.heap.stringAt(L, -1) ?? message;
      m._lua_settop(L, 2);
      return 1;
    } catch (e) {
      if (e === Infinity) throw e; // a Lua error (out of memory) unwinding: Lua reports LUA_ERRERR
      return 0;
    }
  };

  /** Values on the idle call thread's stack besides its message handler (0 between calls; -1 during one). */
  get callStackTop(): number {
    return this.#callDepth === 0 ? this.m._lua_gettop(this.#C) - 1 : -1;
  }

  // ---------------------------------------------------------------- threads

  /** A new Lua thread, anchored in the registry (registry index returned) and marked host-driven, left off the main stack. */
  #newHostedThreadRef(): { T: LuaState; ref: number } {
    const m = this.m;
    const L = this.L;
    const T = m._lua_newthread(L);
    // HOSTED[T] = true: user code cannot resume or close a host-driven thread.
    m._lua_rawgeti(L, REG, this.#hosted.key);
    m._lua_pushvalue(L, -2);
    m._lua_pushboolean(L, 1);
    m._lua_rawset(L, -3);
    m._lua_settop(L, -2);
    return { T, ref: m._luaL_ref(L, REG) };
  }

  #newHostedThread(): LuaState {
    return this.#newHostedThreadRef().T;
  }

  /** A fresh or pooled thread with an empty stack. */
  #takeSlot(maxRunMs: number, limitScope: LimitScope, anchorResults: boolean): ThreadSlot {
    const slot = this.#pool.pop();
    if (slot === undefined) {
      const { T, ref } = this.#newHostedThreadRef();
      return { L: T, ref, key: BigInt(ref), pendingArgs: 0, started: false, wait: null, outcome: null, cpuMs: 0, maxRunMs, limitScope, anchorResults };
    }
    slot.started = false;
    slot.cpuMs = 0;
    slot.maxRunMs = maxRunMs;
    slot.limitScope = limitScope;
    slot.anchorResults = anchorResults;
    return slot;
  }

  /** A fresh or pooled thread with `function + args` pushed by `push`; push returns the arg count. */
  newSlot(push: (T: LuaState) => number, maxRunMs: number, limitScope: LimitScope, anchorResults: boolean): ThreadSlot {
    const slot = this.#takeSlot(maxRunMs, limitScope, anchorResults);
    try {
      slot.pendingArgs = push(slot.L);
    } catch (e) {
      this.m._lua_settop(slot.L, 0);
      this.#recycle(slot);
      throw e;
    }
    return slot;
  }

  /** A thread ready to run a compiled chunk (handler, env, ...args) or a Lua function (fn, ...args). */
  spawnSlot(target: LuaChunk | LuaRef, env: ChunkEnv, args: readonly LuaValue[], maxRunMs: number, limitScope: LimitScope): ThreadSlot {
    const slot = this.#takeSlot(maxRunMs, limitScope, false);
    const T = slot.L;
    try {
      if (target instanceof LuaChunk) {
        this.pushRef(T, target.factory);
        this.#pushEnv(T, env);
        slot.pendingArgs = 1;
      } else {
        this.pushValue(T, target);
        slot.pendingArgs = 0;
      }
      if (args.length > 0) {
        this.pushValues(T, args);
        slot.pendingArgs += args.length;
      }
    } catch (e) {
      this.m._lua_settop(T, 0);
      this.#recycle(slot);
      throw e;
    }
    return slot;
  }

  /** Pushes the `_ENV` a compiled chunk's handler gets as its first argument. */
  #pushEnv(L: LuaState, env: ChunkEnv): void {
    const m = this.m;
    if (env === 'fresh') {
      m._lua_createtable(L, 0, 0);
      m._lua_rawgeti(L, REG, this.#envMt.key);
      m._lua_setmetatable(L, -2);
    } else if (env === 'sandbox') {
      m._lua_rawgeti(L, REG, this.sandbox.key);
    } else {
      this.pushValue(L, env);
    }
  }

  /** Moves the function left on the main stack by loadTrusted onto T. */
  moveFromMain(T: LuaState): void {
    this.m._lua_xmove(this.L, T, 1);
  }

  newTable(): LuaRef {
    this.m._lua_createtable(this.L, 0, 0);
    return this.#refTop(this.L);
  }

  newEnv(): LuaRef {
    const m = this.m;
    m._lua_createtable(this.L, 0, 0);
    m._lua_rawgeti(this.L, REG, this.#envMt.key);
    m._lua_setmetatable(this.L, -2);
    return this.#refTop(this.L);
  }

  /** Resumes a slot; `outcome` is what a pending JS wait gets. Resume values were pushed by the caller. */
  resume(slot: ThreadSlot, outcome: Outcome, nargs: number): ResumeResult {
    const m = this.m;
    const T = slot.L;
    const lim = this.limiter;
    const prev = this.#current;
    const from = this.#running;
    const prevDeadline = lim.deadline;
    const prevLimit = lim.limitMs;
    const prevKilled = lim.killed;
    if (slot.wait !== null) slot.outcome = outcome;
    if (!slot.started) {
      nargs += slot.pendingArgs;
      slot.started = true;
    }
    this.#current = slot;
    this.#running = T;
    lim.killed = false;
    const limit = slot.maxRunMs;
    lim.limitMs = limit;
    const start = performance.now();
    lim.deadline = lim.bound(limit > 0 ? start + limit - (slot.limitScope === 'thread' ? slot.cpuMs : 0) : Infinity);
    let status: number;
    let killed: boolean;
    try {
      status = m._lua_resume(T, from, nargs, this.heap.out);
    } finally {
      lim.unforce();
      slot.cpuMs += performance.now() - start;
      killed = lim.killed;
      this.#current = prev;
      this.#running = from;
      lim.deadline = prevDeadline;
      lim.limitMs = prevLimit;
      lim.killed = prevKilled;
    }
    const nres = this.heap.outInt();
    if (killed) return this.#killed(slot, limit);
    if (status === LUA_OK) {
      const top = m._lua_gettop(T);
      const values = this.valuesAt(T, top - nres + 1, nres, slot.anchorResults);
      m._lua_settop(T, 0);
      this.#recycle(slot);
      return { status: 'done', values };
    }
    if (status === LUA_YIELD) {
      const top = m._lua_gettop(T);
      const first = top - nres + 1;
      if (nres >= 1 && m._lua_type(T, first) === T_LIGHTUSERDATA && m._lua_touserdata(T, first) === this.#marker && slot.wait !== null) {
        m._lua_settop(T, first - 1);
        return { status: 'yield', fromJs: true, value: slot.wait.value, values: [] };
      }
      const values = this.valuesAt(T, first, nres, slot.anchorResults);
      m._lua_settop(T, first - 1);
      return { status: 'yield', fromJs: false, value: undefined, values };
    }
    const { message, traceback } = this.#failure(slot, undefined);
    this.reset(slot);
    return { status: 'error', message, traceback, killed: false };
  }

  #killed(slot: ThreadSlot, limit: number): Failure {
    const prevLimit = this.limiter.limitMs;
    this.limiter.limitMs = limit;
    const msg = this.limiter.message();
    this.limiter.limitMs = prevLimit;
    const { traceback } = this.#failure(slot, msg);
    this.limiter.clearFlag(this.L);
    this.drop(slot);
    return { status: 'error', message: msg, traceback, killed: true };
  }

  /** Closes pending to-be-closed variables (under the thread's CPU budget), then pools the thread. */
  reset(slot: ThreadSlot): void {
    const m = this.m;
    const lim = this.limiter;
    const prevDeadline = lim.deadline;
    const prevKilled = lim.killed;
    lim.killed = false;
    const used = slot.limitScope === 'thread' ? slot.cpuMs : 0;
    lim.deadline = lim.bound(slot.maxRunMs > 0 ? performance.now() + Math.max(0, slot.maxRunMs - used) : Infinity);
    let killed: boolean;
    try {
      m._lua_resetthread(slot.L);
    } finally {
      killed = lim.killed;
      lim.deadline = prevDeadline;
      lim.killed = prevKilled;
    }
    if (killed) {
      lim.clearFlag(this.L);
      this.drop(slot);
      return;
    }
    m._lua_settop(slot.L, 0);
    this.#recycle(slot);
  }

  /** Forgets a thread without running anything more in it (after a kill). */
  drop(slot: ThreadSlot): void {
    slot.wait = null;
    slot.outcome = null;
    this.m._luaL_unref(this.L, REG, slot.ref);
  }

  #recycle(slot: ThreadSlot): void {
    slot.wait = null;
    slot.outcome = null;
    if (this.#pool.length < POOL_MAX) this.#pool.push(slot);
    else this.m._luaL_unref(this.L, REG, slot.ref);
  }

  close(): void {
    if (this.closed) return;
    if (this.#current !== null || this.#depth > 0 || this.#callDepth > 0) {
      throw new LuaVmError('PHASEKIT_ERR_LUA_THREAD_STATE', 'cannot close the Lua VM while Lua code is running');
    }
    this.closed = true;
    const m = this.m;
    this.limiter.deadline = Infinity;
    m._lua_close(this.L);
    m.removeFunction(this.#dispatchPtr);
    m.removeFunction(this.#continuePtr);
    m.removeFunction(this.#msghPtr);
    m.removeFunction(this.#repPtr);
    m.removeFunction(this.limiter.hookPtr);
    if (this.#allocPtr !== 0) m.removeFunction(this.#allocPtr);
    this.#fns.length = 1;
    this.#pool.length = 0;
  }
}

function tooManyValues(n: number): LuaVmError {
  return new LuaVmError('PHASEKIT_ERR_LUA_VALUE', `too many values for the Lua stack (${n})`);
}

function defaultOnResume(call: LuaCall, value: unknown): number {
  if (value === undefined) return 0;
  if (isThenable(value)) call.raiseError('cannot resume with a promise; await it first');
  call.pushValue(value as LuaValue);
  return 1;
}
