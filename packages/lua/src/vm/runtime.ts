// The bridge mechanics behind LuaVm: state, registry refs, the one C dispatcher, continuations, threads and resume.
import { BOOT_LUA } from './boot.js';
import { ARG_ERROR, LuaCall, LuaRaise, RAISE, YIELD, type LuaFunction, type OnResume, type Wait } from './call.js';
import { LuaVmError } from './errors.js';
import { CpuLimiter } from './hook.js';
import { LuaOpaque, LuaRef, typeName, type LuaValue, type RefOwner } from './ref.js';
import {
  Heap,
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
type Outcome = { kind: 'values'; count: number } | { kind: 'resolve'; value: unknown } | { kind: 'reject'; reason: unknown };

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

const POOL_MAX = 128;
const EMPTY: LuaValue[] = [];

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
  readonly #statsFn: LuaRef;
  readonly #gcFn: LuaRef;

  readonly #marker: number;
  readonly #dispatchPtr: number;
  readonly #continuePtr: number;
  readonly #allocPtr: number;
  readonly #memory = { used: 0, max: Infinity };

  readonly #fns: (FnEntry | undefined)[] = [undefined];
  readonly #calls: LuaCall[] = [];
  #depth = 0;
  #argError = 0;
  #argMessage = 0;
  readonly #pool: ThreadSlot[] = [];
  #current: ThreadSlot | null = null;

  constructor(m: LuaModule, options: RuntimeOptions) {
    this.m = m;
    this.heap = new Heap(m);
    this.maxRunMs = options.maxRunMs;
    const mem = this.#memory;
    if (options.memoryMaxBytes !== undefined) {
      // Lua's allocator in JS so the heap can be capped; refusing an allocation makes Lua raise "not enough memory".
      this.#allocPtr = m.addFunction((_ud: number, ptr: number, osize: number, nsize: number): number => {
        if (nsize === 0) {
          if (ptr !== 0) {
            mem.used -= osize;
            m._free(ptr);
          }
          return 0;
        }
        const delta = ptr !== 0 ? nsize - osize : nsize;
        if (delta > 0 && mem.used + delta > mem.max) return 0;
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

    this.#marker = m._malloc(1);
    this.#dispatchPtr = m.addFunction(this.#dispatch, 'ii');
    this.#continuePtr = m.addFunction(this.#continue, 'iiii');

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
    this.#statsFn = field('stats');
    this.#gcFn = field('gc');
    m._lua_settop(L, 0);
    m._lua_rawgeti(L, REG, 2n); // LUA_RIDX_GLOBALS
    this.globals = this.#refTop(L);

    if (options.maxRunMs > 0) this.limiter.install(L, options.hookEvery);
    if (options.memoryMaxBytes !== undefined) mem.max = options.memoryMaxBytes;
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
        if (m._lua_isinteger(L, idx) === 0) return m._lua_tonumberx(L, idx, 0);
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
    if (count === 0) return EMPTY.slice();
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

  pushValues(L: LuaState, values: readonly LuaValue[]): void {
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

  /** Calls a helper on the main state in protected mode with the CPU limit paused; returns the stack base. */
  #helper(fn: LuaRef, push: (L: LuaState) => number, nres: number): number {
    const m = this.m;
    const L = this.L;
    const base = m._lua_gettop(L);
    const deadline = this.limiter.deadline;
    this.limiter.deadline = Infinity;
    let status: number;
    try {
      m._lua_rawgeti(L, REG, fn.key);
      status = m._lua_pcallk(L, push(L), nres, 0, 0, 0);
    } catch (e) {
      m._lua_settop(L, base);
      throw e;
    } finally {
      this.limiter.deadline = deadline;
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
      const why = slot === null ? 'outside a Lua thread' : 'here (across a C-call boundary such as table.sort or a metamethod)';
      m._luaL_where(L, 1);
      this.heap.pushString(L, `cannot wait on JS ${why}`);
      m._lua_concat(L, 2);
      return m._lua_error(L);
    }
    slot.wait = wait;
    m._lua_pushlightuserdata(L, this.#marker);
    return m._lua_yieldk(L, 1, 0, this.#continuePtr);
  }

  // ---------------------------------------------------------------- threads

  /** A fresh or pooled thread with `function + args` pushed by `push`; push returns the arg count. */
  newSlot(push: (T: LuaState) => number, maxRunMs: number, limitScope: LimitScope, anchorResults: boolean): ThreadSlot {
    const m = this.m;
    let slot = this.#pool.pop();
    if (slot === undefined) {
      const L = this.L;
      const T = m._lua_newthread(L);
      // HOSTED[T] = true: user code cannot resume or close a host-driven thread.
      m._lua_rawgeti(L, REG, this.#hosted.key);
      m._lua_pushvalue(L, -2);
      m._lua_pushboolean(L, 1);
      m._lua_rawset(L, -3);
      m._lua_settop(L, -2);
      const ref = m._luaL_ref(L, REG);
      slot = { L: T, ref, key: BigInt(ref), pendingArgs: 0, started: false, wait: null, outcome: null, cpuMs: 0, maxRunMs, limitScope, anchorResults };
    } else {
      slot.started = false;
      slot.wait = null;
      slot.outcome = null;
      slot.cpuMs = 0;
      slot.maxRunMs = maxRunMs;
      slot.limitScope = limitScope;
      slot.anchorResults = anchorResults;
    }
    try {
      slot.pendingArgs = push(slot.L);
    } catch (e) {
      m._lua_settop(slot.L, 0);
      this.#recycle(slot);
      throw e;
    }
    return slot;
  }

  /** Pushes the per-run closure of a compiled chunk: factory(env) on T. */
  pushChunkClosure(T: LuaState, factory: LuaRef, env: 'fresh' | 'sandbox' | LuaRef): void {
    const m = this.m;
    m._lua_rawgeti(T, REG, factory.key);
    if (env === 'fresh') m._lua_pushnil(T);
    else if (env === 'sandbox') m._lua_rawgeti(T, REG, this.sandbox.key);
    else this.pushValue(T, env);
    if (m._lua_pcallk(T, 1, 1, 0, 0, 0) !== LUA_OK) {
      const msg = this.heap.stringAt(T, -1) ?? '?';
      throw new LuaVmError('PHASEKIT_ERR_LUA_RUNTIME', `could not instantiate chunk: ${msg}`);
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
    const prevDeadline = lim.deadline;
    const prevLimit = lim.limitMs;
    const prevKilled = lim.killed;
    if (slot.wait !== null) slot.outcome = outcome;
    if (!slot.started) {
      nargs += slot.pendingArgs;
      slot.started = true;
    }
    this.#current = slot;
    lim.killed = false;
    const limit = slot.maxRunMs;
    lim.limitMs = limit;
    const start = performance.now();
    lim.deadline = limit > 0 ? start + limit - (slot.limitScope === 'thread' ? slot.cpuMs : 0) : Infinity;
    let status: number;
    let killed: boolean;
    try {
      status = m._lua_resume(T, prev?.L ?? 0, nargs, this.heap.out);
    } finally {
      slot.cpuMs += performance.now() - start;
      killed = lim.killed;
      this.#current = prev;
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
        return { status: 'yield', fromJs: true, value: slot.wait.value, values: EMPTY.slice() };
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
    lim.deadline = slot.maxRunMs > 0 ? performance.now() + Math.max(0, slot.maxRunMs - used) : Infinity;
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
    if (this.#current !== null || this.#depth > 0) {
      throw new LuaVmError('PHASEKIT_ERR_LUA_THREAD_STATE', 'cannot close the Lua VM while Lua code is running');
    }
    this.closed = true;
    const m = this.m;
    this.limiter.deadline = Infinity;
    m._lua_close(this.L);
    m.removeFunction(this.#dispatchPtr);
    m.removeFunction(this.#continuePtr);
    m.removeFunction(this.limiter.hookPtr);
    if (this.#allocPtr !== 0) m.removeFunction(this.#allocPtr);
    this.#fns.length = 1;
    this.#pool.length = 0;
  }
}

function defaultOnResume(call: LuaCall, value: unknown): number {
  if (value === undefined) return 0;
  if (isThenable(value)) call.raiseError('cannot resume with a promise; await it first');
  call.pushValue(value as LuaValue);
  return 1;
}
