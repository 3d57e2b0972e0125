// The view a JS function called from Lua gets: typed, byte-exact access to its arguments, result pushers, raise and yield.
import { LuaVmError } from './errors.js';
import type { Runtime } from './runtime.js';
import type { LuaRef, LuaTypeName, LuaValue } from './ref.js';
import { typeName } from './ref.js';
import { T_NIL, T_NONE, T_NUMBER, T_STRING, T_TABLE, type LuaState } from './wasm.js';

/**
 * A JS function exposed to Lua. Returns how many results it pushed (nothing = 0), or the value of
 * `call.yield(...)` to make the calling coroutine wait.
 */
export type LuaFunction = (call: LuaCall) => number | void;

/** Runs when a coroutine that waited through `call.yield(value, onResume)` is resumed; pushes the results. */
export type OnResume = (call: LuaCall, value: unknown) => number | void;

/** Result of `call.yield`: return it from the function. */
export const YIELD = -0x7fff0001;
/** Internal: the function raised a Lua error (message already pushed). */
export const RAISE = -0x7fff0002;
/** Internal: the function raised an argument error (luaL_argerror). */
export const ARG_ERROR = -0x7fff0003;

/** Thrown by `raiseError` / `argError`; the bridge turns it into a Lua error. Do not catch it. */
export class LuaRaise {
  readonly message: string;
  readonly level: number;
  readonly arg: number;
  constructor(message: string, level: number, arg: number) {
    this.message = message;
    this.level = level;
    this.arg = arg;
  }
}

export interface Wait {
  value: unknown;
  onResume: OnResume | undefined;
}

export class LuaCall {
  readonly #rt: Runtime;
  #L: LuaState = 0;
  #base = 0;
  #argc = 0;
  #pushed = 0;
  #wait: Wait | null = null;
  #name = '?';

  constructor(rt: Runtime) {
    this.#rt = rt;
  }

  /** @internal */
  enter(L: LuaState, base: number, argc: number, name: string): void {
    this.#L = L;
    this.#base = base;
    this.#argc = argc;
    this.#pushed = 0;
    this.#wait = null;
    this.#name = name;
  }

  /** The name given to createFunction / defineFunction ('yield' inside an onResume). */
  get name(): string {
    return this.#name;
  }

  /**
   * Identifies the Lua thread (coroutine) that made this call: equal numbers, same coroutine, while
   * it lives (a finished thread's number may be reused).
   */
  get thread(): number {
    if (this.#L === 0) throw stale();
    return this.#L;
  }

  /** @internal */
  leave(): Wait | null {
    const wait = this.#wait;
    this.#wait = null;
    this.#L = 0;
    return wait;
  }

  /** Number of arguments Lua passed. */
  get argCount(): number {
    return this.#argc;
  }

  #idx(i: number): number {
    if (this.#L === 0) throw stale();
    return i >= 1 && i <= this.#argc ? this.#base + i : 0;
  }

  #ltype(i: number): number {
    const idx = this.#idx(i);
    return idx === 0 ? T_NONE : this.#rt.m._lua_type(this.#L, idx);
  }

  /** Lua type of argument i (1-based); 'none' past the last argument. */
  type(i: number): LuaTypeName {
    return typeName(this.#ltype(i));
  }

  /** True for nil and for a missing argument. */
  isNil(i: number): boolean {
    const t = this.#ltype(i);
    return t === T_NIL || t === T_NONE;
  }

  /** Argument i as a JS string (UTF-8 decoded, invalid bytes become U+FFFD); numbers are converted like tostring. */
  string(i: number): string | undefined {
    const t = this.#ltype(i);
    if (t !== T_STRING && t !== T_NUMBER) return undefined;
    return this.#rt.heap.stringAt(this.#L, this.#base + i);
  }

  /** Argument i as an exact copy of its bytes (strings and numbers). */
  bytes(i: number): Uint8Array | undefined {
    const t = this.#ltype(i);
    if (t !== T_STRING && t !== T_NUMBER) return undefined;
    return this.#rt.heap.bytesAt(this.#L, this.#base + i);
  }

  /**
   * Argument i's bytes without a copy: a view of the VM's memory, to read at once (before pushing
   * results or calling into Lua, either of which may move or reuse it).
   */
  bytesView(i: number): Uint8Array | undefined {
    const t = this.#ltype(i);
    if (t !== T_STRING && t !== T_NUMBER) return undefined;
    return this.#rt.heap.bytesViewAt(this.#L, this.#base + i);
  }

  /** Argument i as a number (numbers and numeric strings, like tonumber); 64-bit integers beyond 2^53 lose precision. */
  number(i: number): number | undefined {
    const idx = this.#idx(i);
    if (idx === 0) return undefined;
    const m = this.#rt.m;
    const out = this.#rt.heap.out + 8;
    const n = m._lua_tonumberx(this.#L, idx, out);
    return this.#rt.heap.outInt(8) !== 0 ? n : undefined;
  }

  /** Argument i as an exact 64-bit integer (integers, integral floats, numeric strings). */
  integer(i: number): bigint | undefined {
    const idx = this.#idx(i);
    if (idx === 0) return undefined;
    const m = this.#rt.m;
    const out = this.#rt.heap.out + 8;
    const n = m._lua_tointegerx(this.#L, idx, out);
    return this.#rt.heap.outInt(8) !== 0 ? n : undefined;
  }

  /** Argument i by Lua truthiness (nil and false are false). */
  boolean(i: number): boolean {
    const idx = this.#idx(i);
    return idx !== 0 && this.#rt.m._lua_toboolean(this.#L, idx) !== 0;
  }

  /** Argument i converted as a LuaValue; tables and functions come back as LuaOpaque (use ref() to keep one). */
  value(i: number): LuaValue {
    const idx = this.#idx(i);
    return idx === 0 ? undefined : this.#rt.valueAt(this.#L, idx, false);
  }

  /** Anchors argument i in the registry; release the ref when done. undefined for nil/none. */
  ref(i: number): LuaRef | undefined {
    const idx = this.#idx(i);
    if (idx === 0 || this.#rt.m._lua_type(this.#L, idx) === T_NIL) return undefined;
    return this.#rt.refAt(this.#L, idx);
  }

  /** Argument i as a string, or a Lua `bad argument` error. */
  checkString(i: number): string {
    const s = this.string(i);
    if (s === undefined) this.#typeError(i, 'string');
    return s;
  }

  /** Argument i as bytes, or a Lua `bad argument` error. */
  checkBytes(i: number): Uint8Array {
    const b = this.bytes(i);
    if (b === undefined) this.#typeError(i, 'string');
    return b;
  }

  /** Argument i as a number, or a Lua `bad argument` error. */
  checkNumber(i: number): number {
    const n = this.number(i);
    if (n === undefined) this.#typeError(i, 'number');
    return n;
  }

  /** Argument i as a table (anchored), or a Lua `bad argument` error. */
  checkTable(i: number): LuaRef {
    if (this.#ltype(i) !== T_TABLE) this.#typeError(i, 'table');
    const ref = this.ref(i);
    if (ref === undefined) this.#typeError(i, 'table');
    return ref;
  }

  #typeError(i: number, expected: string): never {
    return this.argError(i, `${expected} expected, got ${this.#ltype(i) === T_NONE ? 'no value' : this.type(i)}`);
  }

  #grow(): void {
    if (this.#L === 0) throw stale();
    if ((++this.#pushed & 15) === 0 && this.#rt.m._lua_checkstack(this.#L, 20) === 0) {
      throw new LuaRaise('stack overflow (too many results)', 1, 0);
    }
  }

  pushNil(): void {
    this.#grow();
    this.#rt.m._lua_pushnil(this.#L);
  }

  pushBoolean(b: boolean): void {
    this.#grow();
    this.#rt.m._lua_pushboolean(this.#L, b ? 1 : 0);
  }

  /** Integral values within ±2^53 become Lua integers (so Lua prints 10534, not 10534.0); others floats. */
  pushNumber(n: number): void {
    this.#grow();
    if (Number.isSafeInteger(n)) this.#rt.m._lua_pushinteger(this.#L, BigInt(n));
    else this.#rt.m._lua_pushnumber(this.#L, n);
  }

  /** Pushes a Lua integer (wraps modulo 2^64 like Lua for out-of-range bigints). */
  pushInteger(n: number | bigint): void {
    this.#grow();
    this.#rt.m._lua_pushinteger(this.#L, BigInt.asIntN(64, BigInt(n)));
  }

  /** Pushes the UTF-8 bytes of s. */
  pushString(s: string): void {
    this.#grow();
    this.#rt.heap.pushString(this.#L, s);
  }

  /** Pushes bytes as a Lua string, byte for byte. */
  pushBytes(bytes: Uint8Array): void {
    this.#grow();
    this.#rt.heap.pushBytes(this.#L, bytes);
  }

  /** Pushes any LuaValue (LuaRef pushes the referenced value). */
  pushValue(v: LuaValue): void {
    this.#grow();
    this.#rt.pushValue(this.#L, v);
  }

  /** Pushes a new empty full userdata with no metatable (Lua 5.1's newproxy). */
  pushUserdata(): void {
    this.#grow();
    this.#rt.m._lua_newuserdatauv(this.#L, 0, 0);
  }

  /** Pushes a new table built from an array (1-based sequence) or a plain record of LuaValues. */
  pushTable(from: readonly LuaValue[] | Readonly<Record<string, LuaValue>>): void {
    this.#grow();
    this.#rt.pushTable(this.#L, from);
  }

  /**
   * Pushes a new table of `pairs` (keys in order): a key seen again collects its values into an
   * array table, as OpenResty's get_uri_args / get_headers tables do. Built with raw API calls, so
   * any number of pairs costs linear time and no Lua stack.
   */
  pushPairsTable(pairs: readonly (readonly [LuaValue, LuaValue])[]): void {
    this.#grow();
    const rt = this.#rt;
    const m = rt.m;
    const L = this.#L;
    if (m._lua_checkstack(L, 8) === 0) throw new LuaRaise('stack overflow (too many results)', 1, 0);
    m._lua_createtable(L, 0, pairs.length);
    const t = m._lua_gettop(L);
    for (const [k, v] of pairs) {
      rt.pushValue(L, k);
      m._lua_pushvalue(L, -1);
      const prev = m._lua_rawget(L, t); // t ... k prev
      if (prev === T_NIL) {
        m._lua_settop(L, -2);
        rt.pushValue(L, v);
        m._lua_rawset(L, t);
      } else if (prev === T_TABLE) {
        const n = Number(m._lua_rawlen(L, -1) as number | bigint); // lua_Unsigned: a bigint from wasm
        rt.pushValue(L, v);
        m._lua_rawseti(L, -2, BigInt(n + 1));
        m._lua_settop(L, -3);
      } else {
        m._lua_createtable(L, 2, 0); // k prev arr
        m._lua_rotate(L, -2, 1); // k arr prev
        m._lua_rawseti(L, -2, 1n); // k arr
        rt.pushValue(L, v);
        m._lua_rawseti(L, -2, 2n);
        m._lua_rawset(L, t);
      }
    }
  }

  /**
   * Raises a Lua error with `message`, catchable by pcall. level 1 (default) prefixes the position of the
   * Lua code that called this function (`file:line: `), like luaL_error; level 0 adds nothing.
   */
  raiseError(message: string, level = 1): never {
    throw new LuaRaise(message, level, 0);
  }

  /** Raises `bad argument #i to 'name' (message)` like luaL_argerror. */
  argError(i: number, message: string): never {
    throw new LuaRaise(message, 1, i);
  }

  /**
   * Suspends the calling coroutine: `return call.yield(promise)`. The host (see drive()) gets `value` in a
   * 'yield' result and resumes the coroutine with `resolve(v)` or `reject(e)`. On resolve, the Lua call
   * returns `v` (nothing for undefined), or whatever `onResume(call, v)` pushes. On reject, a Lua error
   * is raised at the call site (`file:line: <reason message>`), catchable by pcall; onResume is not
   * called. For `nil, err` style results, catch in JS first: `call.yield(p.catch(toErr), onResume)`.
   * A thread resumed with resume(...values) instead gets those values (onResume sees them as arguments).
   */
  yield(value?: unknown, onResume?: OnResume): number {
    if (this.#L === 0) throw stale();
    if (value instanceof Promise) value.catch(noop); // the driver reports it; never an unhandled rejection
    this.#wait = { value, onResume };
    return YIELD;
  }
}

function noop(): void {}

function stale(): LuaVmError {
  return new LuaVmError('PHASEKIT_ERR_LUA_THREAD_STATE', 'a LuaCall was used after its function returned (copy what you need before awaiting)');
}
