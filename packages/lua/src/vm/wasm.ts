// Raw access to wasmoon's Lua 5.4 wasm module: the typed C API exports we use and byte-exact string transfer.
import { isUtf8 } from 'node:buffer';
import { LuaFactory } from 'wasmoon';

/** A `lua_State*` (a wasm32 pointer). */
export type LuaState = number;
/** A pointer into wasm memory. */
export type Ptr = number;

/** Lua type tags (`lua_type`). */
export const T_NONE = -1;
export const T_NIL = 0;
export const T_BOOLEAN = 1;
export const T_LIGHTUSERDATA = 2;
export const T_NUMBER = 3;
export const T_STRING = 4;
export const T_TABLE = 5;
export const T_FUNCTION = 6;
export const T_USERDATA = 7;
export const T_THREAD = 8;

/** Thread status codes (`lua_resume`, `lua_pcallk`). */
export const LUA_OK = 0;
export const LUA_YIELD = 1;
export const LUA_ERRRUN = 2;
export const LUA_ERRSYNTAX = 3;
export const LUA_ERRMEM = 4;

/** `nresults` for "all results" (lua_pcallk). */
export const LUA_MULTRET = -1;

export const LUA_REGISTRYINDEX = -1001000;
export const LUA_MASKCOUNT = 8;
export const upvalueIndex = (i: number): number => LUA_REGISTRYINDEX - i;

/**
 * The subset of the emscripten module wasmoon builds that the bridge calls. Every `_lua*` entry is the
 * wasm export itself (no ccall marshalling): pointers and ints are numbers, `lua_Integer` is a bigint.
 */
export interface LuaModule {
  HEAPU8: Uint8Array;
  HEAP32: Int32Array;
  HEAPU32: Uint32Array;
  _malloc(size: number): Ptr;
  _free(ptr: Ptr): void;
  _realloc(ptr: Ptr, size: number): Ptr;
  addFunction(fn: (...args: number[]) => number | void, signature: string): number;
  removeFunction(index: number): void;

  _luaL_newstate(): LuaState;
  _luaL_openlibs(L: LuaState): void;
  _lua_newstate(alloc: number, ud: Ptr): LuaState;
  _lua_close(L: LuaState): void;
  _lua_newthread(L: LuaState): LuaState;
  _lua_resetthread(L: LuaState): number;
  _lua_sethook(L: LuaState, hook: number, mask: number, count: number): void;

  _lua_gettop(L: LuaState): number;
  _lua_settop(L: LuaState, idx: number): void;
  _lua_pushvalue(L: LuaState, idx: number): void;
  _lua_rotate(L: LuaState, idx: number, n: number): void;
  _lua_xmove(from: LuaState, to: LuaState, n: number): void;
  _lua_checkstack(L: LuaState, n: number): number;

  _lua_type(L: LuaState, idx: number): number;
  _lua_isinteger(L: LuaState, idx: number): number;
  _lua_tonumberx(L: LuaState, idx: number, isnum: Ptr): number;
  _lua_tointegerx(L: LuaState, idx: number, isnum: Ptr): bigint;
  _lua_toboolean(L: LuaState, idx: number): number;
  _lua_tolstring(L: LuaState, idx: number, len: Ptr): Ptr;
  _lua_touserdata(L: LuaState, idx: number): Ptr;
  _lua_rawlen(L: LuaState, idx: number): number;

  _lua_pushnil(L: LuaState): void;
  _lua_pushnumber(L: LuaState, n: number): void;
  _lua_pushinteger(L: LuaState, n: bigint): void;
  _lua_pushlstring(L: LuaState, s: Ptr, len: number): Ptr;
  _lua_pushboolean(L: LuaState, b: number): void;
  _lua_pushlightuserdata(L: LuaState, p: Ptr): void;
  _lua_pushcclosure(L: LuaState, fn: number, n: number): void;

  _lua_createtable(L: LuaState, narr: number, nrec: number): void;
  _lua_newuserdatauv(L: LuaState, size: number, nuvalue: number): Ptr;
  _lua_rawgeti(L: LuaState, idx: number, n: bigint): number;
  _lua_rawseti(L: LuaState, idx: number, n: bigint): void;
  _lua_rawget(L: LuaState, idx: number): number;
  _lua_rawset(L: LuaState, idx: number): void;
  _lua_getfield(L: LuaState, idx: number, k: Ptr): number;
  _lua_setfield(L: LuaState, idx: number, k: Ptr): void;
  _lua_setmetatable(L: LuaState, idx: number): number;
  _lua_concat(L: LuaState, n: number): void;

  _lua_pcallk(L: LuaState, nargs: number, nresults: number, errfunc: number, ctx: number, k: number): number;
  _lua_yieldk(L: LuaState, nresults: number, ctx: number, k: number): number;
  _lua_resume(L: LuaState, from: LuaState, nargs: number, nres: Ptr): number;
  _lua_status(L: LuaState): number;
  _lua_isyieldable(L: LuaState): number;
  _lua_error(L: LuaState): number;

  _luaL_ref(L: LuaState, t: number): number;
  _luaL_unref(L: LuaState, t: number, ref: number): void;
  _luaL_loadbufferx(L: LuaState, buf: Ptr, size: number, name: Ptr, mode: Ptr): number;
  _luaL_where(L: LuaState, level: number): void;
  _luaL_checklstring(L: LuaState, arg: number, len: Ptr): Ptr;
  _luaL_checkinteger(L: LuaState, arg: number): bigint;
  _luaL_optlstring(L: LuaState, arg: number, def: Ptr, len: Ptr): Ptr;
  _luaL_argerror(L: LuaState, arg: number, extramsg: Ptr): number;
  _luaL_traceback(L: LuaState, L1: LuaState, msg: Ptr, level: number): void;
}

/** Instantiates a fresh wasm instance of wasmoon's Lua (one linear memory, up to 2 GiB, per instance). */
export async function loadLuaModule(): Promise<LuaModule> {
  const { module, exports, invoke } = await instantiateCapturingExports();
  // The emscripten module's declared type lacks the `_lua*` exports; they exist at run time.
  const m = module as unknown as LuaModule;
  if (exports === undefined) return m;
  // wasmoon ships emscripten's ASSERTIONS build: every `Module._lua_x` is a wrapper that checks
  // the runtime and builds an error string on each call (~12% of a Lua handler's time).
  // Calling the instance's exports directly skips it; HEAP views and addFunction stay the module's.
  const own: [string, unknown][] = [];
  for (const [name, fn] of Object.entries(exports)) {
    if (typeof fn === 'function' && `_${name}` in m) own.push([`_${name}`, fn]);
  }
  if (invoke !== undefined) {
    // Table slots handed out by addFunction can be reused after removeFunction: drop cached entries.
    own.push(
      [
        'addFunction',
        (fn: (...args: number[]) => number | void, signature: string): number => {
          invoke.cache.length = 0;
          return m.addFunction(fn, signature);
        },
      ],
      [
        'removeFunction',
        (index: number): void => {
          invoke.cache.length = 0;
          m.removeFunction(index);
        },
      ],
    );
  }
  // Built in one go (Object.fromEntries) so V8 keeps it a fast-property object: ~150 properties added one
  // by one would turn it into a hash table, and every `m._lua_x` into a hash lookup (~3.5 ns per call).
  return Object.setPrototypeOf(Object.fromEntries(own), m as object) as LuaModule;
}

/** The slice of the WebAssembly global used here (the TS lib in use has no WebAssembly types). */
type WasmExports = Record<string, unknown>;
interface WasmGlobal {
  instantiate: (...args: unknown[]) => Promise<{ instance: { exports: WasmExports } } | { exports: WasmExports }>;
}
const wasmGlobal = (globalThis as unknown as { WebAssembly: WasmGlobal }).WebAssembly;

interface WasmTable {
  get(index: number): unknown;
}

type InvokeVii = (index: number, a: number, b: number) => void;

/**
 * Lua's error handling (setjmp/longjmp) compiles to a JS trampoline: the body of every protected call
 * and resume (luaD_rawrunprotected) runs through the `invoke_vii` import, which catches emscripten's
 * longjmp (a thrown number). wasmoon's ASSERTIONS build does a checked stackSave and two function-table
 * lookups there per call; this does the same with the raw exports and one cached lookup (only Lua's
 * own static functions pass through here; the cache is dropped on addFunction/removeFunction anyway).
 * Until the instance exists, or if an export it needs is missing, emscripten's own version runs.
 */
class LeanInvoke {
  readonly cache: ((a: number, b: number) => void)[] = [];
  exports: WasmExports | undefined;
  readonly #fallback: InvokeVii;
  #ready = false;
  #stackSave: () => number = () => 0;
  #stackRestore: (sp: number) => void = () => undefined;
  #setThrew: (threw: number, value: number) => void = () => undefined;
  #table: WasmTable | undefined;

  constructor(fallback: InvokeVii) {
    this.#fallback = fallback;
  }

  #init(): boolean {
    const ex = this.exports;
    if (ex === undefined) return false;
    const { stackSave, stackRestore, setThrew, __indirect_function_table: table } = ex;
    if (typeof stackSave !== 'function' || typeof stackRestore !== 'function' || typeof setThrew !== 'function') return false;
    if (typeof (table as WasmTable | undefined)?.get !== 'function') return false;
    this.#stackSave = stackSave as () => number;
    this.#stackRestore = stackRestore as (sp: number) => void;
    this.#setThrew = setThrew as (threw: number, value: number) => void;
    this.#table = table as WasmTable;
    this.#ready = true;
    return true;
  }

  readonly invoke: InvokeVii = (index, a, b) => {
    if (!this.#ready && !this.#init()) return this.#fallback(index, a, b);
    const sp = this.#stackSave();
    try {
      let f = this.cache[index];
      if (f === undefined) {
        f = this.#table!.get(index) as (a: number, b: number) => void;
        this.cache[index] = f;
      }
      f(a, b);
    } catch (e) {
      this.#stackRestore(sp);
      if (typeof e !== 'number' || e !== e) throw e; // not a longjmp: a real exception
      this.#setThrew(1, 0);
    }
  };
}

/** One instantiation at a time, so the exports captured are this module's. */
let instantiating: Promise<unknown> = Promise.resolve();

/**
 * Creates wasmoon's module while watching WebAssembly.instantiate for the instance it makes
 * (emscripten keeps the raw exports private) and swapping in the lean invoke_vii. Falls back to the
 * module alone if no instance is seen.
 */
async function instantiateCapturingExports(): Promise<{ module: unknown; exports: WasmExports | undefined; invoke: LeanInvoke | undefined }> {
  const turn = instantiating.then(async () => {
    const original = wasmGlobal.instantiate;
    let exports: WasmExports | undefined;
    let invoke: LeanInvoke | undefined;
    wasmGlobal.instantiate = async (...args: unknown[]) => {
      const env = (args[1] as { env?: Record<string, unknown> } | undefined)?.env;
      if (env !== undefined && typeof env.invoke_vii === 'function') {
        invoke = new LeanInvoke(env.invoke_vii as InvokeVii);
        env.invoke_vii = invoke.invoke;
      }
      const result = await original.apply(wasmGlobal, args);
      exports = ('instance' in result ? result.instance : result).exports;
      if (invoke !== undefined) invoke.exports = exports;
      return result;
    };
    const globalsBefore = new Set(Object.getOwnPropertyNames(globalThis));
    try {
      const luaWasm = await new LuaFactory().getLuaModule();
      return { module: luaWasm.module as unknown, exports, invoke: exports !== undefined ? invoke : undefined };
    } finally {
      wasmGlobal.instantiate = original;
      dropGlobalGetters(globalsBefore);
    }
  });
  // (Not the module itself: a VM's wasm memory must be collectable once the VM is closed.)
  instantiating = turn.then(
    () => undefined,
    () => undefined,
  );
  return turn;
}

/**
 * emscripten's ASSERTIONS build defines getters on globalThis (`writeI53ToI64`, ...) that warn about
 * missing library symbols. They close over the module, so the first instance's wasm memory (up to
 * 2 GiB) could never be collected: a VM replaced after a memory bomb kept its RSS. Removed here.
 */
function dropGlobalGetters(before: ReadonlySet<string>): void {
  const g = globalThis as Record<string, unknown>;
  for (const name of Object.getOwnPropertyNames(g)) {
    if (before.has(name)) continue;
    const d = Object.getOwnPropertyDescriptor(g, name);
    if (d?.get !== undefined && d.configurable === true) delete g[name];
  }
}

const SCRATCH_KEEP = 64 * 1024;

/**
 * Moves strings between JS and wasm memory without the NUL truncation of emscripten's helpers:
 * Lua → JS through `lua_tolstring`'s length out-pointer, JS → Lua through `lua_pushlstring`.
 */
export class Heap {
  readonly #m: LuaModule;
  // Views of the wasm memory, cached: the module's HEAP* properties live on emscripten's module object
  // (a slow hash-table object). Growing the memory detaches the old buffer (views read as length 0),
  // which is when they are taken again.
  #view!: Buffer;
  #u32!: Uint32Array;
  #i32!: Int32Array;
  /** 16 bytes for out-parameters (string length, nres). */
  readonly out: Ptr;
  #scratch: Ptr;
  #scratchSize: number;

  constructor(m: LuaModule) {
    this.#m = m;
    this.#sync();
    this.out = m._malloc(16);
    this.#scratchSize = 1024;
    this.#scratch = m._malloc(this.#scratchSize);
  }

  #sync(): void {
    const m = this.#m;
    this.#view = Buffer.from(m.HEAPU8.buffer);
    this.#u32 = m.HEAPU32;
    this.#i32 = m.HEAP32;
  }

  /** A Buffer over the whole wasm memory, re-created after the memory grew. */
  view(): Buffer {
    if (this.#view.byteLength === 0) this.#sync();
    return this.#view;
  }

  /** The int32 out-parameter at `out + offset`. */
  outInt(offset = 0): number {
    if (this.#i32.byteLength === 0) this.#sync();
    return this.#i32[(this.out + offset) >> 2] ?? 0;
  }

  /** The uint32 at `out` (a length out-parameter). */
  #outLen(): number {
    if (this.#u32.byteLength === 0) this.#sync();
    return this.#u32[this.out >> 2] ?? 0;
  }

  /** Size of the wasm linear memory in bytes. */
  get memoryBytes(): number {
    return this.view().byteLength;
  }

  /** Scratch memory of at least `size` bytes, valid until the next call. */
  scratch(size: number): Ptr {
    if (size > this.#scratchSize) {
      this.#m._free(this.#scratch);
      this.#scratchSize = Math.max(size, this.#scratchSize * 2);
      this.#scratch = this.#m._malloc(this.#scratchSize);
      if (this.#scratch === 0) {
        this.#scratchSize = 0;
        throw new RangeError(`wasm memory exhausted allocating ${size} bytes`);
      }
    }
    return this.#scratch;
  }

  #shrink(): void {
    if (this.#scratchSize > SCRATCH_KEEP) {
      this.#m._free(this.#scratch);
      this.#scratchSize = 1024;
      this.#scratch = this.#m._malloc(this.#scratchSize);
    }
  }

  /** A NUL-terminated copy of `s` in scratch memory (for names and messages, never for data). */
  cString(s: string): Ptr {
    const ptr = this.scratch(s.length * 3 + 1);
    const view = this.view();
    const n = view.write(s, ptr, 'utf8');
    view[ptr + n] = 0;
    return ptr;
  }

  /** The bytes of the string or number at `idx` (numbers are converted in place, as lua_tolstring does). */
  bytesAt(L: LuaState, idx: number): Uint8Array | undefined {
    const p = this.#m._lua_tolstring(L, idx, this.out);
    if (p === 0) return undefined;
    const len = this.#outLen();
    return new Uint8Array(this.view().subarray(p, p + len)); // a copy
  }

  /** Like bytesAt, without the copy: a view of Lua's memory, valid until Lua runs or allocates again. */
  bytesViewAt(L: LuaState, idx: number): Uint8Array | undefined {
    const p = this.#m._lua_tolstring(L, idx, this.out);
    if (p === 0) return undefined;
    return this.view().subarray(p, p + this.#outLen());
  }

  /** The string at `idx` decoded as UTF-8 (invalid sequences become U+FFFD; use bytesAt to keep bytes). */
  stringAt(L: LuaState, idx: number): string | undefined {
    const p = this.#m._lua_tolstring(L, idx, this.out);
    if (p === 0) return undefined;
    const len = this.#outLen();
    return decodeUtf8(this.view(), p, len);
  }

  /** The string at `idx` as a JS string when it is valid UTF-8, else as its exact bytes. */
  exactAt(L: LuaState, idx: number): string | Uint8Array {
    const p = this.#m._lua_tolstring(L, idx, this.out);
    const len = this.#outLen();
    const view = this.view();
    if (len <= 64) {
      let i = 0;
      while (i < len && (view[p + i] ?? 0) < 0x80) i++;
      if (i === len) return len <= SHORT ? shortAscii(view, p, len) : view.toString('latin1', p, p + len);
    }
    const bytes = view.subarray(p, p + len);
    return isUtf8(bytes) ? bytes.toString('utf8') : new Uint8Array(bytes);
  }

  /** Pushes `s` as its UTF-8 bytes. */
  pushString(L: LuaState, s: string): void {
    const n = s.length;
    const ptr = this.scratch(n * 3 + 1);
    const view = this.view();
    let len = 0;
    if (n <= 64) {
      while (len < n) {
        const c = s.charCodeAt(len);
        if (c >= 0x80) break;
        view[ptr + len] = c;
        len++;
      }
      if (len < n) len = view.write(s, ptr, n * 3, 'utf8');
    } else {
      len = view.write(s, ptr, n * 3, 'utf8');
    }
    this.#m._lua_pushlstring(L, ptr, len);
    if (n > SCRATCH_KEEP) this.#shrink();
  }

  /** Pushes `bytes` as a Lua string, byte for byte. */
  pushBytes(L: LuaState, bytes: Uint8Array): void {
    const ptr = this.scratch(bytes.length + 1);
    this.view().set(bytes, ptr);
    this.#m._lua_pushlstring(L, ptr, bytes.length);
    if (bytes.length > SCRATCH_KEEP) this.#shrink();
  }

  /** Loads `source` (exact bytes) as a chunk onto L; returns the lua status code. */
  load(L: LuaState, source: Uint8Array, chunkName: string): number {
    const nameLen = Buffer.byteLength(chunkName) + 1;
    const ptr = this.scratch(source.length + nameLen + 2);
    const view = this.view();
    view.set(source, ptr);
    const namePtr = ptr + source.length;
    view[namePtr + view.write(chunkName, namePtr, 'utf8')] = 0;
    const modePtr = namePtr + nameLen;
    view[modePtr] = 0x74; // "t": text chunks only, never bytecode
    view[modePtr + 1] = 0;
    const status = this.#m._luaL_loadbufferx(L, ptr, source.length, namePtr, modePtr);
    if (source.length > SCRATCH_KEEP) this.#shrink();
    return status;
  }
}

function decodeUtf8(view: Buffer, p: number, len: number): string {
  if (len <= 64) {
    let i = 0;
    while (i < len && (view[p + i] ?? 0) < 0x80) i++;
    if (i === len) return len <= SHORT ? shortAscii(view, p, len) : view.toString('latin1', p, p + len);
  }
  return view.toString('utf8', p, p + len);
}

/** Up to this length, ASCII is decoded in JS: Buffer#toString costs ~55 ns even for one byte. */
const SHORT = 10;

/** `len` (<= SHORT) ASCII bytes at `p` as a string: 6 ns for 1 byte, 20 ns for 5, vs ~60 through Buffer#toString. */
function shortAscii(v: Buffer, p: number, len: number): string {
  switch (len) {
    case 0:
      return '';
    case 1:
      return String.fromCharCode(v[p] ?? 0);
    case 2:
      return String.fromCharCode(v[p] ?? 0, v[p + 1] ?? 0);
    case 3:
      return String.fromCharCode(v[p] ?? 0, v[p + 1] ?? 0, v[p + 2] ?? 0);
    case 4:
      return String.fromCharCode(v[p] ?? 0, v[p + 1] ?? 0, v[p + 2] ?? 0, v[p + 3] ?? 0);
    default: {
      let s = String.fromCharCode(v[p] ?? 0, v[p + 1] ?? 0, v[p + 2] ?? 0, v[p + 3] ?? 0, v[p + 4] ?? 0);
      for (let i = 5; i < len; i++) s += String.fromCharCode(v[p + i] ?? 0);
      return s;
    }
  }
}

