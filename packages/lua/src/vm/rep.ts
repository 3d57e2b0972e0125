// string.rep for the sandbox: Lua's own, but the result is filled with native copies.
//
// Lua 5.4's str_rep copies the piece once per repetition with memcpy; in wasm that is a call per copy,
// so string.rep("x", 100 * 2^20) takes ~5 s inside one C call, where no CPU-limit hook can fire. Here
// the piece is written once and the buffer doubled with copyWithin (a native memmove): ~100x faster,
// so one call is bounded by the memory cap. Arguments, coercions, errors and the result are Lua's:
// luaL_checklstring / luaL_checkinteger / luaL_optlstring raise exactly as str_rep does.
import type { Heap, LuaModule, LuaState, Ptr } from './wasm.js';

/** str_rep's MAXSIZE on wasm32 (INT_MAX). */
const MAXSIZE = 0x7fffffff;

/** Registers the C function (addFunction) and returns its table index. */
export function addRep(m: LuaModule, heap: Heap): number {
  const lenPtr: Ptr = m._malloc(8);
  const empty: Ptr = m._malloc(1);
  m.HEAPU8[empty] = 0;
  const tooLarge = Buffer.from('resulting string too large');
  return m.addFunction((L: LuaState): number => {
    const s = m._luaL_checklstring(L, 1, lenPtr);
    const l = heap.view().readUInt32LE(lenPtr);
    const n = m._luaL_checkinteger(L, 2);
    const sep = m._luaL_optlstring(L, 3, empty, lenPtr);
    const lsep = heap.view().readUInt32LE(lenPtr);
    const piece = l + lsep;
    if (n <= 0n || piece === 0) {
      m._lua_pushlstring(L, empty, 0);
      return 1;
    }
    if (piece > MAXSIZE / Number(n)) {
      m._luaL_where(L, 1);
      heap.pushBytes(L, tooLarge);
      m._lua_concat(L, 2);
      return m._lua_error(L);
    }
    const reps = Number(n);
    const total = reps * l + (reps - 1) * lsep;
    // The box is Lua memory (counted by the allocator, collected if pushing the result fails).
    const box = m._lua_newuserdatauv(L, total, 0);
    const view = heap.view(); // after the allocation: the memory may have grown
    view.copyWithin(box, s, s + l);
    if (lsep > 0 && reps > 1) view.copyWithin(box + l, sep, sep + lsep);
    let filled = reps > 1 ? piece : l;
    while (filled < total) {
      const chunk = Math.min(filled, total - filled);
      view.copyWithin(box + filled, box, box + chunk);
      filled += chunk;
    }
    m._lua_pushlstring(L, box, total);
    return 1;
  }, 'ii');
}
