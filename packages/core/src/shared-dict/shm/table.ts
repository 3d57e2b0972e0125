// The data structures of a shared dict inside its region: hash chains, the LRU list, the expiry
// heap, and an arena of blocks (bump allocation, compaction when the end is reached). No locking
// and no OpenResty semantics here: SharedDict holds the lock around every call it makes.

import type { Clock } from '../../clock.js';
import { ExpiryHeap } from './expiry-heap.js';
import {
  B_HDR, E_FLAGS, E_HASH, E_HEAPI, E_HNEXT, E_KEYLEN, E_LHEAD, E_LTAIL, E_NEXT, E_PREV, E_TYPE, E_VALLEN, E_VBYTES,
  ENTRY_HEADER_BYTES, EW_EXPIRES, H_ARENA_END, H_ARENA_START, H_COUNT, H_HEAP_AT, H_BUCKETS_AT, H_MASK,
  H_TOP, HF_CAPACITY, HF_USED, I_META, I_NEXT, I_PREV, IT_BYTES, IT_NUM, IT_STR, ITEM_HEADER_BYTES, IW_NUM, K_ENTRY, K_FREE,
  K_ITEM, SENTINEL, words,
} from './layout.js';

/** Bytes nginx charges per entry, per list head and per list node (see SHARED_DICT_OVERHEAD). */
export const ENTRY_COST = 68;
export const LIST_HEAD_COST = 16;
export const LIST_NODE_COST = 21;

// makeRoom outcomes.
export const NO_ROOM = 0;
export const ROOM = 1;
export const ROOM_FORCIBLE = 2;

/** A list item as callers see it. */
export type ListItem = string | number | Uint8Array;

/** FNV-1a over the UTF-16 code units of a key. */
export function hashKey(k: string): number {
  let h = 0x811c9dc5 | 0;
  for (let i = 0; i < k.length; i++) h = Math.imul(h ^ k.charCodeAt(i), 0x01000193);
  return h;
}

export class ShmTable {
  readonly i32: Int32Array;
  readonly f64: Float64Array;
  readonly u8: Uint8Array;
  readonly buf: Buffer;
  readonly #mask: number;
  readonly #bucketsAt: number;
  readonly #heapAt: number;
  readonly #arenaStart: number;
  readonly #arenaEnd: number;
  readonly capacity: number;
  readonly heap: ExpiryHeap;
  /** A ref the caller holds across an allocation: compaction updates it if the block moves. */
  pin = 0;

  constructor(buffer: SharedArrayBuffer) {
    this.i32 = new Int32Array(buffer);
    this.f64 = new Float64Array(buffer);
    this.u8 = new Uint8Array(buffer);
    this.buf = Buffer.from(buffer);
    this.#mask = this.i32[H_MASK] as number;
    this.#bucketsAt = this.i32[H_BUCKETS_AT] as number;
    this.#heapAt = this.i32[H_HEAP_AT] as number;
    this.#arenaStart = this.i32[H_ARENA_START] as number;
    this.#arenaEnd = this.i32[H_ARENA_END] as number;
    this.capacity = this.f64[HF_CAPACITY] as number;
    this.heap = new ExpiryHeap(this.i32, this.f64, this.#heapAt);
  }

  get used(): number {
    return this.f64[HF_USED] as number;
  }

  set used(v: number) {
    this.f64[HF_USED] = v;
  }

  get count(): number {
    return this.i32[H_COUNT] as number;
  }

  // ---- lookup ----

  find(k: string, h: number): number {
    const i32 = this.i32;
    let ref = i32[this.#bucketsAt + (h & this.#mask)] as number;
    while (ref !== 0) {
      const p = ref << 1;
      if (i32[p + E_HASH] === h && this.#keyIs(ref, k)) return ref;
      ref = i32[p + E_HNEXT] as number;
    }
    return 0;
  }

  #keyIs(ref: number, k: string): boolean {
    const len = this.i32[(ref << 1) + E_KEYLEN] as number;
    const n = k.length;
    if (len < n) return false;
    const u8 = this.u8;
    const off = ref * 8 + ENTRY_HEADER_BYTES;
    for (let i = 0; i < n; i++) {
      const c = k.charCodeAt(i);
      if (c >= 0x80) return len === Buffer.byteLength(k) && this.buf.toString('utf8', off, off + len) === k;
      if (u8[off + i] !== c) return false;
    }
    return len === n;
  }

  keyOf(ref: number): string {
    return this.#readString(ref * 8 + ENTRY_HEADER_BYTES, this.i32[(ref << 1) + E_KEYLEN] as number);
  }

  // ---- entries ----

  /** Allocates an entry for `k` at the most recently used end, charging ENTRY + key + vbytes. */
  insert(k: string, h: number, keyBytes: number, type: number, valLen: number, vbytes: number, flags: number): number {
    const ref = this.alloc(words(ENTRY_HEADER_BYTES + keyBytes + valLen), K_ENTRY);
    const i32 = this.i32;
    const p = ref << 1;
    i32[p + E_TYPE] = type;
    i32[p + E_HASH] = h;
    i32[p + E_HEAPI] = -1;
    i32[p + E_FLAGS] = flags;
    i32[p + E_KEYLEN] = keyBytes;
    i32[p + E_VALLEN] = valLen;
    i32[p + E_VBYTES] = vbytes;
    this.f64[ref + EW_EXPIRES] = 0;
    this.writeString(k, ref * 8 + ENTRY_HEADER_BYTES, keyBytes);
    this.#linkHash(ref, h);
    this.#linkFront(ref);
    i32[H_COUNT] = (i32[H_COUNT] as number) + 1;
    this.used += ENTRY_COST + keyBytes + vbytes;
    return ref;
  }

  /**
   * Gives `ref` a block for a value of `valLen` bytes, keeping its key, expiry, heap slot and
   * (as the caller then touches it) its LRU place. Returns the entry's new ref.
   */
  reblock(ref: number, k: string, valLen: number): number {
    const i32 = this.i32;
    const p = ref << 1;
    const h = i32[p + E_HASH] as number;
    const keyBytes = i32[p + E_KEYLEN] as number;
    const heapi = i32[p + E_HEAPI] as number;
    const expires = this.f64[ref + EW_EXPIRES] as number;
    this.#unlinkHash(ref, h);
    this.#unlinkLru(ref);
    this.free(ref);
    const to = this.alloc(words(ENTRY_HEADER_BYTES + keyBytes + valLen), K_ENTRY);
    const q = to << 1;
    i32[q + E_HASH] = h;
    i32[q + E_HEAPI] = heapi;
    i32[q + E_KEYLEN] = keyBytes;
    i32[q + E_VALLEN] = valLen;
    this.f64[to + EW_EXPIRES] = expires;
    if (heapi !== -1) i32[this.#heapAt + heapi] = to;
    this.writeString(k, to * 8 + ENTRY_HEADER_BYTES, keyBytes);
    this.#linkHash(to, h);
    this.#linkFront(to);
    return to;
  }

  /** True when a value of `valLen` bytes fits `ref`'s block as it is. */
  fits(ref: number, valLen: number): boolean {
    const i32 = this.i32;
    const p = ref << 1;
    return (i32[p + B_HDR] as number) >>> 3 === words(ENTRY_HEADER_BYTES + (i32[p + E_KEYLEN] as number) + valLen);
  }

  remove(ref: number): void {
    const i32 = this.i32;
    const p = ref << 1;
    this.#unlinkHash(ref, i32[p + E_HASH] as number);
    this.#unlinkLru(ref);
    if ((i32[p + E_HEAPI] as number) !== -1) this.heap.delete(ref);
    this.used -= ENTRY_COST + (i32[p + E_KEYLEN] as number) + (i32[p + E_VBYTES] as number);
    i32[H_COUNT] = (i32[H_COUNT] as number) - 1;
    this.freeItems(ref);
    this.free(ref);
  }

  /** Moves an entry to the most recently used end. */
  touch(ref: number): void {
    const i32 = this.i32;
    const s = SENTINEL << 1;
    if (i32[s + E_NEXT] === ref) return;
    const p = ref << 1;
    const prev = i32[p + E_PREV] as number;
    const next = i32[p + E_NEXT] as number;
    i32[(prev << 1) + E_NEXT] = next;
    i32[(next << 1) + E_PREV] = prev;
    const head = i32[s + E_NEXT] as number;
    i32[p + E_PREV] = SENTINEL;
    i32[p + E_NEXT] = head;
    i32[(head << 1) + E_PREV] = ref;
    i32[s + E_NEXT] = ref;
  }

  /** The least recently used entry, 0 when empty. */
  lruTail(): number {
    const t = this.i32[(SENTINEL << 1) + E_PREV] as number;
    return t === SENTINEL ? 0 : t;
  }

  /** The next entry towards the most recently used end, 0 past it. */
  towardsFront(ref: number): number {
    const r = this.i32[(ref << 1) + E_PREV] as number;
    return r === SENTINEL ? 0 : r;
  }

  #linkHash(ref: number, h: number): void {
    const b = this.#bucketsAt + (h & this.#mask);
    this.i32[(ref << 1) + E_HNEXT] = this.i32[b] as number;
    this.i32[b] = ref;
  }

  #unlinkHash(ref: number, h: number): void {
    const i32 = this.i32;
    const b = this.#bucketsAt + (h & this.#mask);
    const next = i32[(ref << 1) + E_HNEXT] as number;
    let x = i32[b] as number;
    if (x === ref) {
      i32[b] = next;
      return;
    }
    for (;;) {
      const xn = i32[(x << 1) + E_HNEXT] as number;
      if (xn === ref) {
        i32[(x << 1) + E_HNEXT] = next;
        return;
      }
      x = xn;
    }
  }

  #linkFront(ref: number): void {
    const i32 = this.i32;
    const s = SENTINEL << 1;
    const head = i32[s + E_NEXT] as number;
    i32[(ref << 1) + E_PREV] = SENTINEL;
    i32[(ref << 1) + E_NEXT] = head;
    i32[(head << 1) + E_PREV] = ref;
    i32[s + E_NEXT] = ref;
  }

  #unlinkLru(ref: number): void {
    const i32 = this.i32;
    const p = ref << 1;
    const prev = i32[p + E_PREV] as number;
    const next = i32[p + E_NEXT] as number;
    i32[(prev << 1) + E_NEXT] = next;
    i32[(next << 1) + E_PREV] = prev;
  }

  // ---- values ----

  /** Writes `s` (UTF-8, `bytes` long) at byte offset `off`. */
  writeString(s: string, off: number, bytes: number): void {
    if (bytes === s.length && bytes <= 32) {
      const u8 = this.u8;
      for (let i = 0; i < bytes; i++) u8[off + i] = s.charCodeAt(i);
    } else if (bytes !== 0) {
      this.buf.write(s, off, bytes, 'utf8');
    }
  }

  #readString(off: number, len: number): string {
    if (len <= 16) {
      const u8 = this.u8;
      let s = '';
      for (let i = 0; i < len; i++) {
        const c = u8[off + i] as number;
        if (c >= 0x80) return this.buf.toString('utf8', off, off + len);
        s += String.fromCharCode(c);
      }
      return s;
    }
    return this.buf.toString('utf8', off, off + len);
  }

  /** Byte offset of an entry's value (after its key). */
  valueAt(ref: number): number {
    return ref * 8 + ENTRY_HEADER_BYTES + (this.i32[(ref << 1) + E_KEYLEN] as number);
  }

  stringValue(ref: number): string {
    return this.#readString(this.valueAt(ref), this.i32[(ref << 1) + E_VALLEN] as number);
  }

  bytesValue(ref: number): Uint8Array {
    const off = this.valueAt(ref);
    return this.u8.slice(off, off + (this.i32[(ref << 1) + E_VALLEN] as number));
  }

  writeBytes(ref: number, v: Uint8Array): void {
    this.u8.set(v, this.valueAt(ref));
  }

  /**
   * Frees room for `need` more bytes: expired entries first (soonest expired first), then,
   * if `evict`, live entries from the least recently used end. `now` is the time the caller
   * already read (NaN if none), so an entry the caller judged live is not reclaimed here.
   */
  makeRoom(need: number, evict: boolean, now: number, clock: Clock): number {
    const cap = this.capacity - need;
    if (this.used <= cap) return ROOM;
    if (this.heap.length !== 0) {
      const t = now === now ? now : clock.now();
      while (this.used > cap && this.heap.length !== 0) {
        const top = this.heap.top();
        if ((this.f64[top + EW_EXPIRES] as number) > t) break;
        this.remove(top);
      }
      if (this.used <= cap) return ROOM;
    }
    if (!evict) return NO_ROOM;
    while (this.used > cap) {
      const tail = this.lruTail();
      if (tail === 0) return NO_ROOM;
      this.remove(tail);
    }
    return ROOM_FORCIBLE;
  }

  // ---- lists ----

  /** Adds an item at the head (`left`) or tail of list entry `ref` (pinned: it may move). */
  pushItem(ref: number, left: boolean, item: ListItem, len: number): number {
    const type = typeof item === 'number' ? IT_NUM : typeof item === 'string' ? IT_STR : IT_BYTES;
    this.pin = ref;
    const it = this.alloc(words(ITEM_HEADER_BYTES + (type === IT_NUM ? 8 : len)), K_ITEM);
    const e = this.pin;
    this.pin = 0;
    const i32 = this.i32;
    const q = it << 1;
    i32[q + I_META] = (len << 2) | type;
    if (type === IT_NUM) this.f64[it + IW_NUM] = item as number;
    else if (type === IT_STR) this.writeString(item as string, it * 8 + ITEM_HEADER_BYTES, len);
    else this.u8.set(item as Uint8Array, it * 8 + ITEM_HEADER_BYTES);
    const p = e << 1;
    const n = i32[p + E_VALLEN] as number;
    if (n === 0) {
      i32[q + I_PREV] = e;
      i32[q + I_NEXT] = e;
      i32[p + E_LHEAD] = it;
      i32[p + E_LTAIL] = it;
    } else if (left) {
      const head = i32[p + E_LHEAD] as number;
      i32[q + I_PREV] = e;
      i32[q + I_NEXT] = head;
      i32[(head << 1) + I_PREV] = it;
      i32[p + E_LHEAD] = it;
    } else {
      const tail = i32[p + E_LTAIL] as number;
      i32[q + I_NEXT] = e;
      i32[q + I_PREV] = tail;
      i32[(tail << 1) + I_NEXT] = it;
      i32[p + E_LTAIL] = it;
    }
    i32[p + E_VALLEN] = n + 1;
    return e;
  }

  /** Removes the head (`left`) or tail item of a non-empty list; returns it and its byte length. */
  popItem(ref: number, left: boolean): [ListItem, number] {
    const i32 = this.i32;
    const p = ref << 1;
    const n = i32[p + E_VALLEN] as number;
    const it = i32[p + (left ? E_LHEAD : E_LTAIL)] as number;
    const q = it << 1;
    const meta = i32[q + I_META] as number;
    const len = meta >>> 2;
    const type = meta & 3;
    const off = it * 8 + ITEM_HEADER_BYTES;
    const item = type === IT_NUM ? (this.f64[it + IW_NUM] as number) : type === IT_STR ? this.#readString(off, len) : this.u8.slice(off, off + len);
    if (n > 1) {
      if (left) {
        const next = i32[q + I_NEXT] as number;
        i32[(next << 1) + I_PREV] = ref;
        i32[p + E_LHEAD] = next;
      } else {
        const prev = i32[q + I_PREV] as number;
        i32[(prev << 1) + I_NEXT] = ref;
        i32[p + E_LTAIL] = prev;
      }
    }
    i32[p + E_VALLEN] = n - 1;
    this.free(it);
    return [item, type === IT_NUM ? 8 : len];
  }

  /** Frees every item of a list entry and leaves it empty. */
  freeItems(ref: number): void {
    const i32 = this.i32;
    const p = ref << 1;
    let n = i32[p + E_VALLEN] as number;
    if ((i32[p + E_TYPE] as number) !== LIST_TYPE || n === 0) return;
    let it = i32[p + E_LTAIL] as number;
    while (n-- > 0) {
      const prev = i32[(it << 1) + I_PREV] as number;
      this.free(it);
      it = prev;
    }
    i32[p + E_VALLEN] = 0;
  }

  // ---- arena ----

  alloc(size: number, kind: number): number {
    const i32 = this.i32;
    let top = i32[H_TOP] as number;
    if (top + size > this.#arenaEnd) {
      this.#compact();
      top = i32[H_TOP] as number;
      // Cannot happen while blocks stay within a few bytes of what they are charged.
      if (top + size > this.#arenaEnd) throw new Error('shared dict region exhausted');
    }
    i32[H_TOP] = top + size;
    const p = top << 1;
    i32[p + B_HDR] = (size << 3) | kind;
    // Fresh or reused words: clear the header fields callers do not all set.
    for (let i = 1; i < 16 && i < size * 2; i++) i32[p + i] = 0;
    return top;
  }

  free(ref: number): void {
    const i32 = this.i32;
    const p = ref << 1;
    const size = (i32[p + B_HDR] as number) >>> 3;
    if (ref + size === i32[H_TOP]) i32[H_TOP] = ref;
    else i32[p + B_HDR] = size << 3; // K_FREE
  }

  /** Slides every live block down over the free ones, fixing every pointer to a moved block. */
  #compact(): void {
    const i32 = this.i32;
    const top = i32[H_TOP] as number;
    let w = this.#arenaStart;
    for (let r = this.#arenaStart; r < top; ) {
      const hdr = i32[r << 1] as number;
      const size = hdr >>> 3;
      const kind = hdr & 7;
      if (kind !== K_FREE) {
        if (r !== w) {
          this.u8.copyWithin(w * 8, r * 8, (r + size) * 8);
          if (kind === K_ENTRY) this.#movedEntry(r, w);
          else this.#movedItem(w);
          if (this.pin === r) this.pin = w;
        }
        w += size;
      }
      r += size;
    }
    i32[H_TOP] = w;
  }

  #movedEntry(from: number, to: number): void {
    const i32 = this.i32;
    const q = to << 1;
    const h = i32[q + E_HASH] as number;
    const b = this.#bucketsAt + (h & this.#mask);
    if (i32[b] === from) {
      i32[b] = to;
    } else {
      let x = i32[b] as number;
      while (i32[(x << 1) + E_HNEXT] !== from) x = i32[(x << 1) + E_HNEXT] as number;
      i32[(x << 1) + E_HNEXT] = to;
    }
    i32[((i32[q + E_PREV] as number) << 1) + E_NEXT] = to;
    i32[((i32[q + E_NEXT] as number) << 1) + E_PREV] = to;
    const heapi = i32[q + E_HEAPI] as number;
    if (heapi !== -1) i32[this.#heapAt + heapi] = to;
    if ((i32[q + E_TYPE] as number) === LIST_TYPE && (i32[q + E_VALLEN] as number) > 0) {
      i32[((i32[q + E_LHEAD] as number) << 1) + I_PREV] = to;
      i32[((i32[q + E_LTAIL] as number) << 1) + I_NEXT] = to;
    }
  }

  #movedItem(to: number): void {
    const i32 = this.i32;
    const q = to << 1;
    const prev = i32[q + I_PREV] as number;
    const next = i32[q + I_NEXT] as number;
    if (((i32[prev << 1] as number) & 7) === K_ENTRY) i32[(prev << 1) + E_LHEAD] = to;
    else i32[(prev << 1) + I_NEXT] = to;
    if (((i32[next << 1] as number) & 7) === K_ENTRY) i32[(next << 1) + E_LTAIL] = to;
    else i32[(next << 1) + I_PREV] = to;
  }
}

/** The list value type (nginx's SHDICT_TLIST); the table needs it to find list items. */
export const LIST_TYPE = 5;
