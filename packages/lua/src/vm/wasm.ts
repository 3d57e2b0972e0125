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
  _lua_rawgeti(L: LuaState, idx: number, n: bigint): number;
  _lua_rawseti(L: LuaState, idx: number, n: bigint): void;
  _lua_rawget(L: LuaState, idx: number): number;
  _lua_rawset(L: LuaState, idx: number): void;
  _lua_getfield(L: LuaState, idx: number, k: Ptr): number;
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
  _luaL_argerror(L: LuaState, arg: number, extramsg: Ptr): number;
}

/** Instantiates a fresh wasm instance of wasmoon's Lua (one linear memory, up to 2 GiB, per instance). */
export async function loadLuaModule(): Promise<LuaModule> {
  const { module, exports } = await instantiateCapturingExports();
  // The emscripten module's declared type lacks the `_lua*` exports; they exist at run time.
  const m = module as unknown as LuaModule;
  if (exports === undefined) return m;
  // wasmoon ships emscripten's ASSERTIONS build: every `Module._lua_x` is a wrapper that checks
  // the runtime and builds an error string on each call (~12% of a Lua handler's time).
  // Calling the instance's exports directly skips it; HEAP views and addFunction stay the module's.
  const direct = Object.create(m) as Record<string, unknown>;
  for (const [name, fn] of Object.entries(exports)) {
    if (typeof fn === 'function' && `_${name}` in m) direct[`_${name}`] = fn;
  }
  return direct as unknown as LuaModule;
}

/** The slice of the WebAssembly global used here (the TS lib in use has no WebAssembly types). */
type WasmExports = Record<string, unknown>;
interface WasmGlobal {
  instantiate: (...args: unknown[]) => Promise<{ instance: { exports: WasmExports } } | { exports: WasmExports }>;
}
const wasmGlobal = (globalThis as unknown as { WebAssembly: WasmGlobal }).WebAssembly;

/** One instantiation at a time, so the exports captured are this module's. */
let instantiating: Promise<unknown> = Promise.resolve();

/**
 * Creates wasmoon's module while watching WebAssembly.instantiate for the instance it makes
 * (emscripten keeps the raw exports private). Falls back to the module alone if none is seen.
 */
async function instantiateCapturingExports(): Promise<{ module: unknown; exports: WasmExports | undefined }> {
  const turn = instantiating.then(async () => {
    const original = wasmGlobal.instantiate;
    let exports: WasmExports | undefined;
    wasmGlobal.instantiate = async (...args: unknown[]) => {
      const result = await original.apply(wasmGlobal, args);
      exports = ('instance' in result ? result.instance : result).exports;
      return result;
    };
    try {
      const luaWasm = await new LuaFactory().getLuaModule();
      return { module: luaWasm.module as unknown, exports };
    } finally {
      wasmGlobal.instantiate = original;
    }
  });
  instantiating = turn.catch(() => undefined);
  return turn;
}

const SCRATCH_KEEP = 64 * 1024;

/**
 * Moves strings between JS and wasm memory without the NUL truncation of emscripten's helpers:
 * Lua → JS through `lua_tolstring`'s length out-pointer, JS → Lua through `lua_pushlstring`.
 */
export class Heap {
  readonly #m: LuaModule;
  #view: Buffer;
  /** 16 bytes for out-parameters (string length, nres). */
  readonly out: Ptr;
  #scratch: Ptr;
  #scratchSize: number;

  constructor(m: LuaModule) {
    this.#m = m;
    this.#view = Buffer.from(m.HEAPU8.buffer);
    this.out = m._malloc(16);
    this.#scratchSize = 1024;
    this.#scratch = m._malloc(this.#scratchSize);
  }

  /** A Buffer over the whole wasm memory, re-created after the memory grew. */
  view(): Buffer {
    const heap = this.#m.HEAPU8;
    if (this.#view.buffer !== heap.buffer) this.#view = Buffer.from(heap.buffer);
    return this.#view;
  }

  /** The int32 out-parameter at `out + offset`. */
  outInt(offset = 0): number {
    return this.#m.HEAP32[(this.out + offset) >> 2] ?? 0;
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
    const len = this.#m.HEAPU32[this.out >> 2] ?? 0;
    return this.#m.HEAPU8.slice(p, p + len);
  }

  /** The string at `idx` decoded as UTF-8 (invalid sequences become U+FFFD; use bytesAt to keep bytes). */
  stringAt(L: LuaState, idx: number): string | undefined {
    const p = this.#m._lua_tolstring(L, idx, this.out);
    if (p === 0) return undefined;
    const len = this.#m.HEAPU32[this.out >> 2] ?? 0;
    return decodeUtf8(this.view(), p, len);
  }

  /** The string at `idx` as a JS string when it is valid UTF-8, else as its exact bytes. */
  exactAt(L: LuaState, idx: number): string | Uint8Array {
    const p = this.#m._lua_tolstring(L, idx, this.out);
    const len = this.#m.HEAPU32[this.out >> 2] ?? 0;
    const view = this.view();
    if (len <= 64) {
      let i = 0;
      while (i < len && (view[p + i] ?? 0) < 0x80) i++;
      if (i === len) return view.toString('latin1', p, p + len);
    }
    const bytes = view.subarray(p, p + len);
    return isUtf8(bytes) ? bytes.toString('utf8') : this.#m.HEAPU8.slice(p, p + len);
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
    if (i === len) return view.toString('latin1', p, p + len);
  }
  return view.toString('utf8', p, p + len);
}

