// SharedDict: OpenResty's ngx.shared.DICT in one SharedArrayBuffer region (hash table, LRU list,
// expiry heap and values), so worker threads given the same region share one dict, synchronously
// and atomically, as nginx workers share a lua_shared_dict zone.

import { systemClock } from '../clock.js';
import type { Clock } from '../clock.js';
import { BadArgumentError } from '../errors.js';
import {
  checkExpireTime, exptimeMs, incrArgs, itemBytes, keyError, SAFE_KEY_UNITS, T_BOOL, T_BYTES, T_LIST, T_NUM, T_STR, toCount, toFlags, toKey,
  utf8Length, valueType, type IncrArgs,
} from './args.js';
import {
  ADD_NIL, BAD_VALUE_TYPE, EXISTS, EXPIRE_NOT_FOUND, EXPIRE_OK, GET_LIST, GET_NIL, INCR_NO_MEMORY, INCR_NOT_A_NUMBER, INCR_NOT_FOUND, LLEN_ZERO,
  NO_MEMORY, NOT_A_LIST, NOT_FOUND, OK, OK_FORCIBLE, POP_NIL, PUSH_BAD_VALUE_TYPE, PUSH_NO_MEMORY, STALE_LIST, STALE_NIL, TTL_NEVER, TTL_NOT_FOUND,
} from './results.js';
import { E_FLAGS, E_KEYLEN, E_TYPE, E_VALLEN, E_VBYTES, EW_EXPIRES, EW_NUM, H_LOCK, H_MAGIC, HF_CAPACITY, initRegion, MAGIC, planRegion } from './shm/layout.js';
import { forceUnlock, lock, lockOwner, unlock } from './shm/lock.js';
import { ENTRY_COST, hashKey, LIST_HEAD_COST, LIST_NODE_COST, NO_ROOM, ROOM_FORCIBLE, ShmTable, type ListItem } from './shm/table.js';
import { parseSize } from './size.js';
import type {
  SharedDictExpireResult,
  SharedDictGetResult,
  SharedDictGetStaleResult,
  SharedDictIncrResult,
  SharedDictKey,
  SharedDictListValue,
  SharedDictLlenResult,
  SharedDictPopResult,
  SharedDictPushResult,
  SharedDictStore,
  SharedDictStoreResult,
  SharedDictTtlResult,
  SharedDictValue,
} from './store.js';

export interface SharedDictOptions {
  /** Time source for expiry (milliseconds since the epoch). Defaults to `systemClock`. */
  clock?: Clock;
}

/** What a worker thread needs to open a dict another thread made: send it with postMessage. */
export interface SharedDictRegion {
  readonly name: string;
  readonly buffer: SharedArrayBuffer;
}

/**
 * Bytes charged against capacity on top of key and value bytes. They are the sizes of
 * nginx's own structs on 64-bit: an rbtree node plus `ngx_http_lua_shdict_node_t` (68), a
 * list's queue head (16), and `ngx_http_lua_shdict_list_node_t` per list item (21).
 */
export const SHARED_DICT_OVERHEAD = Object.freeze({ entry: ENTRY_COST, listHead: LIST_HEAD_COST, listNode: LIST_NODE_COST });

/** The expiry flushAll gives every entry: long past, as nginx's `expires = 1`. */
const FLUSHED = -1;

// Store operations, nginx's NGX_HTTP_LUA_SHDICT_* bits.
const OP_SET = 0;
const OP_ADD = 1;
const OP_REPLACE = 2;
const OP_SAFE = 4;

const LOCK = H_LOCK;

/**
 * `ngx.shared.DICT`: the same methods, results and error strings as OpenResty, with memory
 * accounted against `capacity` and least-recently-used eviction. Every method is synchronous,
 * atomic across the threads sharing the region, and usable in every phase, `init` included.
 */
export class SharedDict implements SharedDictStore {
  readonly name: string;
  readonly #clock: Clock;
  readonly #buffer: SharedArrayBuffer;
  readonly #t: ShmTable;
  readonly #i32: Int32Array;
  readonly #f64: Float64Array;
  readonly #incr: IncrArgs = { step: 0, hasInit: false, start: 0, ttlMs: 0 };
  /**
   * True once the region may be reached from another thread (it was handed out, or this dict
   * was attached to one): only then does a call take the lock. A region no other thread can
   * see needs none, and a lock is two atomic operations (~20 ns) per call.
   */
  #shared: boolean;

  /** A new dict of `capacity` bytes (a number, or nginx's size syntax: "512k", "10m"). */
  constructor(name: string, capacity: number | string, options: SharedDictOptions = {}) {
    if (typeof name !== 'string' || name === '') {
      throw new BadArgumentError(`invalid shared dict name ${JSON.stringify(name)}: expected a non-empty string`);
    }
    const region = (options as { region?: SharedArrayBuffer }).region;
    let buffer: SharedArrayBuffer;
    if (region === undefined) {
      const bytes = parseSize(capacity);
      if (bytes < 1) throw new BadArgumentError(`invalid shared dict size ${JSON.stringify(capacity)} for "${name}": must be at least 1 byte`);
      const plan = planRegion(bytes);
      buffer = new SharedArrayBuffer(plan.bytes);
      initRegion(buffer, bytes, plan);
    } else {
      if (!(region instanceof SharedArrayBuffer) || region.byteLength < 256 || Atomics.load(new Int32Array(region, 0, 2), H_MAGIC) !== MAGIC) {
        throw new BadArgumentError(`shared dict "${name}": not a region made by SharedDict (of this phasekit version)`);
      }
      buffer = region;
    }
    this.#shared = region !== undefined;
    this.name = name;
    this.#buffer = buffer;
    this.#clock = options.clock ?? systemClock;
    this.#t = new ShmTable(buffer);
    this.#i32 = this.#t.i32;
    this.#f64 = this.#t.f64;
  }

  /** Opens, in this thread, the dict whose region another thread sent (see `region`). */
  static attach(region: SharedDictRegion, options: SharedDictOptions = {}): SharedDict {
    return new SharedDict(region.name, 0, { ...options, region: region.buffer } as SharedDictOptions);
  }

  /** The dict's memory, to hand to worker threads (`SharedDict.attach`). */
  get region(): SharedDictRegion {
    this.#shared = true;
    return { name: this.name, buffer: this.#buffer };
  }

  /**
   * Frees the dict's lock if the thread `threadId` (worker_threads id) died holding it; returns
   * true if it did. That thread's last call may be half done.
   */
  releaseLockOf(threadId: number): boolean {
    if (lockOwner(this.#i32, LOCK) !== threadId) return false;
    forceUnlock(this.#i32, LOCK);
    return true;
  }

  // ---- reads ----

  get(key: SharedDictKey): SharedDictValue | undefined {
    const k = typeof key === 'string' && key.length !== 0 && key.length <= SAFE_KEY_UNITS ? key : toKey(key);
    const h = hashKey(k);
    const t = this.#t;
    this.#lock();
    try {
      const e = t.find(k, h);
      if (e === 0) return undefined;
      const expires = this.#f64[e + EW_EXPIRES] as number;
      if (expires !== 0 && expires <= this.#clock.now()) return undefined;
      t.touch(e);
      return this.#value(e);
    } finally {
      this.#unlock();
    }
  }

  getWithFlags(key: SharedDictKey): SharedDictGetResult {
    const k = toKey(key);
    if (k === '') return [undefined, keyError(key)];
    const h = hashKey(k);
    const t = this.#t;
    this.#lock();
    try {
      const e = t.find(k, h);
      if (e === 0) return GET_NIL;
      const expires = this.#f64[e + EW_EXPIRES] as number;
      if (expires !== 0 && expires <= this.#clock.now()) return GET_NIL;
      t.touch(e);
      if (this.#type(e) === T_LIST) return GET_LIST;
      const flags = this.#flags(e);
      return [this.#value(e), flags === 0 ? undefined : flags];
    } finally {
      this.#unlock();
    }
  }

  getStale(key: SharedDictKey): SharedDictGetStaleResult {
    const k = toKey(key);
    if (k === '') return [undefined, keyError(key), undefined];
    const h = hashKey(k);
    const t = this.#t;
    this.#lock();
    try {
      const e = t.find(k, h);
      if (e === 0) return STALE_NIL;
      t.touch(e);
      if (this.#type(e) === T_LIST) return STALE_LIST;
      const flags = this.#flags(e);
      const expires = this.#f64[e + EW_EXPIRES] as number;
      return [this.#value(e) as SharedDictValue, flags === 0 ? undefined : flags, expires !== 0 && expires <= this.#clock.now()];
    } finally {
      this.#unlock();
    }
  }

  // ---- scalar stores ----

  set(key: SharedDictKey, value: SharedDictValue | null | undefined, exptime?: number, flags?: number): SharedDictStoreResult {
    return this.#store(OP_SET, key, value, exptime, flags);
  }

  safeSet(key: SharedDictKey, value: SharedDictValue | null | undefined, exptime?: number, flags?: number): SharedDictStoreResult {
    return this.#store(OP_SET | OP_SAFE, key, value, exptime, flags);
  }

  add(key: SharedDictKey, value: SharedDictValue, exptime?: number, flags?: number): SharedDictStoreResult {
    return this.#store(OP_ADD, key, value, exptime, flags);
  }

  safeAdd(key: SharedDictKey, value: SharedDictValue, exptime?: number, flags?: number): SharedDictStoreResult {
    return this.#store(OP_ADD | OP_SAFE, key, value, exptime, flags);
  }

  replace(key: SharedDictKey, value: SharedDictValue, exptime?: number, flags?: number): SharedDictStoreResult {
    return this.#store(OP_REPLACE, key, value, exptime, flags);
  }

  delete(key: SharedDictKey): SharedDictStoreResult {
    return this.#store(OP_SET, key, undefined, 0, 0);
  }

  /** The one store path, in lua-resty-core's order of checks (exptime, key, value) and ngx_http_lua_ffi_shdict_store's logic. */
  #store(op: number, key: unknown, value: unknown, exptime: unknown, flags: unknown): SharedDictStoreResult {
    const ms = exptimeMs(exptime);
    const fl = toFlags(flags);
    const k = typeof key === 'string' && key.length !== 0 && key.length <= SAFE_KEY_UNITS ? key : toKey(key);
    if (k === '') return [undefined, keyError(key), undefined];
    const type = valueType(value);
    if (type === -1) return BAD_VALUE_TYPE;
    if (type === 0 && (op & (OP_ADD | OP_REPLACE)) !== 0) return ADD_NIL;
    // Bytes charged for the value, and bytes it takes in the region (numbers live in the entry).
    const bytes = type === T_STR ? utf8Length(value as string) : type === T_NUM ? 8 : type === T_BOOL ? 1 : type === T_BYTES ? (value as Uint8Array).byteLength : 0;
    const valLen = type === T_STR || type === T_BYTES ? bytes : 0;
    const h = hashKey(k);
    if (!this.#shared) return this.#storeIn(op, k, h, type, value, bytes, valLen, ms, fl);
    lock(this.#i32, LOCK);
    try {
      return this.#storeIn(op, k, h, type, value, bytes, valLen, ms, fl);
    } finally {
      unlock(this.#i32, LOCK);
    }
  }

  /** #store once the arguments are checked, with the lock held (or no other thread able to see the dict). */
  #storeIn(op: number, k: string, h: number, type: number, value: unknown, bytes: number, valLen: number, ms: number, fl: number): SharedDictStoreResult {
    const t = this.#t;
    let now = NaN;
    let e = t.find(k, h);
    let keyBytes: number;
    if (e !== 0) {
      let live = true;
      const expires = this.#f64[e + EW_EXPIRES] as number;
      if (expires !== 0) {
        now = this.#clock.now();
        live = expires > now;
      }
      if ((op & OP_REPLACE) !== 0) {
        if (!live) return NOT_FOUND;
      } else if ((op & OP_ADD) !== 0 && live) {
        return EXISTS;
      }
      if (type === 0) {
        t.remove(e);
        return OK;
      }
      const delta = bytes - (this.#i32[(e << 1) + E_VBYTES] as number);
      if (this.#type(e) !== T_LIST && t.used + delta <= t.capacity) {
        // Reuse the entry (nginx reuses the node when the sizes match; here any size that fits).
        if (!t.fits(e, valLen)) e = t.reblock(e, k, valLen);
        this.#write(e, type, value, bytes, valLen, fl);
        t.used += delta;
        if (ms > 0) t.heap.setExpires(e, (now === now ? now : this.#clock.now()) + ms);
        else if ((this.#f64[e + EW_EXPIRES] as number) !== 0) t.heap.setExpires(e, 0);
        t.touch(e);
        return OK;
      }
      // nginx frees the old node before allocating the new one: if the store then fails, the key is gone.
      keyBytes = this.#keyBytes(e);
      t.remove(e);
    } else {
      if ((op & OP_REPLACE) !== 0) return NOT_FOUND;
      if (type === 0) return OK;
      keyBytes = utf8Length(k);
    }

    const size = ENTRY_COST + keyBytes + bytes;
    if (size > t.capacity) return NO_MEMORY;
    const room = t.makeRoom(size, (op & OP_SAFE) === 0, now, this.#clock);
    if (room === NO_ROOM) return NO_MEMORY;
    const added = t.insert(k, h, keyBytes, type, valLen, bytes, fl);
    this.#write(added, type, value, bytes, valLen, fl);
    if (ms > 0) t.heap.setExpires(added, this.#clock.now() + ms);
    return room === ROOM_FORCIBLE ? OK_FORCIBLE : OK;
  }

  #write(e: number, type: number, value: unknown, bytes: number, valLen: number, flags: number): void {
    const i32 = this.#i32;
    const p = e << 1;
    i32[p + E_TYPE] = type;
    i32[p + E_FLAGS] = flags;
    i32[p + E_VBYTES] = bytes;
    i32[p + E_VALLEN] = valLen;
    if (type === T_NUM) this.#f64[e + EW_NUM] = value as number;
    else if (type === T_BOOL) this.#f64[e + EW_NUM] = value === true ? 1 : 0;
    else if (type === T_STR) this.#t.writeString(value as string, this.#t.valueAt(e), valLen);
    else this.#t.writeBytes(e, value as Uint8Array);
  }

  // ---- numbers ----

  incr(key: SharedDictKey, value: number, init?: number, initTtl?: number): SharedDictIncrResult {
    const k = typeof key === 'string' && key.length !== 0 && key.length <= SAFE_KEY_UNITS ? key : toKey(key);
    if (k === '') return [undefined, keyError(key), undefined];
    let step: number;
    let hasInit = false;
    let start = 0;
    let ttlMs = 0;
    if (typeof value === 'number' && init === undefined && initTtl === undefined) {
      step = value;
    } else {
      const a = incrArgs(value, init, initTtl, this.#incr);
      step = a.step;
      hasInit = a.hasInit;
      start = a.start;
      ttlMs = a.ttlMs;
    }
    const h = hashKey(k);
    const t = this.#t;
    const f64 = this.#f64;
    this.#lock();
    try {
      let now = NaN;
      const e = t.find(k, h);
      if (e !== 0) {
        const expires = f64[e + EW_EXPIRES] as number;
        if (expires === 0 || expires > (now = this.#clock.now())) {
          if (this.#type(e) !== T_NUM) return INCR_NOT_A_NUMBER;
          const n = (f64[e + EW_NUM] as number) + step;
          f64[e + EW_NUM] = n;
          t.touch(e);
          return [n, undefined, hasInit ? false : undefined];
        }
      }
      if (!hasInit) return INCR_NOT_FOUND;

      // Missing or expired: start from init (nginx: value + init), with init_ttl.
      const n = step + start;
      let keyBytes: number;
      if (e !== 0) {
        keyBytes = this.#keyBytes(e);
        t.remove(e);
      } else {
        keyBytes = utf8Length(k);
      }
      const size = ENTRY_COST + keyBytes + 8;
      if (size > t.capacity) return INCR_NO_MEMORY;
      const room = t.makeRoom(size, true, now, this.#clock);
      if (room === NO_ROOM) return INCR_NO_MEMORY;
      const added = t.insert(k, h, keyBytes, T_NUM, 0, 8, 0);
      f64[added + EW_NUM] = n;
      if (ttlMs > 0) t.heap.setExpires(added, this.#clock.now() + ttlMs);
      return [n, undefined, room === ROOM_FORCIBLE];
    } finally {
      this.#unlock();
    }
  }

  // ---- lists ----

  lpush(key: SharedDictKey, value: SharedDictListValue): SharedDictPushResult {
    return this.#push(key, value, true);
  }

  rpush(key: SharedDictKey, value: SharedDictListValue): SharedDictPushResult {
    return this.#push(key, value, false);
  }

  lpop(key: SharedDictKey): SharedDictPopResult {
    return this.#pop(key, true);
  }

  rpop(key: SharedDictKey): SharedDictPopResult {
    return this.#pop(key, false);
  }

  llen(key: SharedDictKey): SharedDictLlenResult {
    const k = toKey(key);
    if (k === '') return [undefined, keyError(key)];
    const h = hashKey(k);
    this.#lock();
    try {
      const e = this.#t.find(k, h);
      if (e === 0 || this.#expired(e)) return LLEN_ZERO;
      this.#t.touch(e); // nginx's lookup counts as use before the type is checked
      if (this.#type(e) !== T_LIST) return NOT_A_LIST;
      return [this.#i32[(e << 1) + E_VALLEN] as number, undefined];
    } finally {
      this.#unlock();
    }
  }

  #push(key: unknown, value: unknown, left: boolean): SharedDictPushResult {
    const k = toKey(key);
    if (k === '') return [undefined, keyError(key)];
    if (typeof value !== 'string' && typeof value !== 'number' && !(value instanceof Uint8Array)) return PUSH_BAD_VALUE_TYPE;
    const item = value as ListItem;
    const len = itemBytes(item);
    const node = LIST_NODE_COST + len;
    const h = hashKey(k);
    const t = this.#t;
    const i32 = this.#i32;
    this.#lock();
    try {
      let now = NaN;
      let e = t.find(k, h);
      if (e !== 0) {
        const expires = this.#f64[e + EW_EXPIRES] as number;
        if (expires !== 0 && expires <= (now = this.#clock.now())) {
          // Expired: a list is emptied and reused without its expiry, anything else is dropped.
          if (this.#type(e) === T_LIST) {
            t.used -= (i32[(e << 1) + E_VBYTES] as number) - LIST_HEAD_COST;
            i32[(e << 1) + E_VBYTES] = LIST_HEAD_COST;
            t.freeItems(e);
            t.heap.setExpires(e, 0);
          } else {
            t.remove(e);
            e = 0;
          }
        } else if (this.#type(e) !== T_LIST) {
          t.touch(e);
          return NOT_A_LIST;
        }
      }

      // Pushes reclaim expired entries but never evict live ones.
      if (e === 0) {
        const keyBytes = utf8Length(k);
        if (t.makeRoom(ENTRY_COST + keyBytes + LIST_HEAD_COST + node, false, now, this.#clock) === NO_ROOM) return PUSH_NO_MEMORY;
        e = t.insert(k, h, keyBytes, T_LIST, 0, LIST_HEAD_COST, 0);
      } else {
        t.touch(e);
        if (t.makeRoom(node, false, now, this.#clock) === NO_ROOM) {
          if ((i32[(e << 1) + E_VALLEN] as number) === 0) t.remove(e); // nginx drops a list it emptied and could not refill
          return PUSH_NO_MEMORY;
        }
      }
      e = t.pushItem(e, left, item, typeof item === 'number' ? 8 : len);
      i32[(e << 1) + E_VBYTES] = (i32[(e << 1) + E_VBYTES] as number) + node;
      t.used += node;
      return [i32[(e << 1) + E_VALLEN] as number, undefined];
    } finally {
      this.#unlock();
    }
  }

  #pop(key: unknown, left: boolean): SharedDictPopResult {
    const k = toKey(key);
    if (k === '') return [undefined, keyError(key)];
    const h = hashKey(k);
    const t = this.#t;
    const i32 = this.#i32;
    this.#lock();
    try {
      const e = t.find(k, h);
      if (e === 0 || this.#expired(e)) return POP_NIL;
      t.touch(e);
      if (this.#type(e) !== T_LIST) return NOT_A_LIST;
      const [item, len] = t.popItem(e, left);
      if ((i32[(e << 1) + E_VALLEN] as number) === 0) {
        t.remove(e);
      } else {
        const node = LIST_NODE_COST + len;
        i32[(e << 1) + E_VBYTES] = (i32[(e << 1) + E_VBYTES] as number) - node;
        t.used -= node;
      }
      return [item, undefined];
    } finally {
      this.#unlock();
    }
  }

  // ---- expiry ----

  ttl(key: SharedDictKey): SharedDictTtlResult {
    const k = toKey(key);
    if (k === '') return [undefined, keyError(key)];
    const h = hashKey(k);
    this.#lock();
    try {
      const e = this.#t.find(k, h);
      if (e === 0) return TTL_NOT_FOUND;
      const expires = this.#f64[e + EW_EXPIRES] as number;
      if (expires === 0) return TTL_NEVER;
      // Like nginx (which peeks without checking expiry), an expired entry not yet freed gives a negative ttl.
      return [(expires - this.#clock.now()) / 1000, undefined];
    } finally {
      this.#unlock();
    }
  }

  expire(key: SharedDictKey, exptime: number): SharedDictExpireResult {
    checkExpireTime(exptime);
    const k = toKey(key);
    if (k === '') return [undefined, keyError(key)];
    const h = hashKey(k);
    this.#lock();
    try {
      const e = this.#t.find(k, h);
      if (e === 0) return EXPIRE_NOT_FOUND;
      // nginx: exptime <= 0 (negative included) removes the expiry; an expired entry not yet freed comes back.
      const ms = Math.trunc(exptime * 1000);
      this.#t.heap.setExpires(e, ms > 0 ? this.#clock.now() + ms : 0);
      return EXPIRE_OK;
    } finally {
      this.#unlock();
    }
  }

  flushAll(): void {
    const t = this.#t;
    this.#lock();
    try {
      // nginx marks every entry expired (get_stale still sees them) and frees only the three
      // least recently used at once; the rest go when room is needed or on flushExpired().
      t.heap.expireAll(FLUSHED);
      for (let i = 0; i < 3; i++) {
        const tail = t.lruTail();
        if (tail === 0) break;
        t.remove(tail);
      }
    } finally {
      this.#unlock();
    }
  }

  flushExpired(max = 0): number {
    const limit = toCount(max, 'max');
    const t = this.#t;
    this.#lock();
    try {
      if (t.heap.length === 0) return 0;
      const now = this.#clock.now();
      let freed = 0;
      // From the least recently used end, as nginx walks its LRU queue.
      for (let e = t.lruTail(); e !== 0; ) {
        const prev = t.towardsFront(e);
        const expires = this.#f64[e + EW_EXPIRES] as number;
        if (expires !== 0 && expires <= now) {
          t.remove(e);
          if (++freed === limit) break;
        }
        e = prev;
      }
      return freed;
    } finally {
      this.#unlock();
    }
  }

  getKeys(max = 1024): string[] {
    const limit = toCount(max, 'max');
    const keys: string[] = [];
    const t = this.#t;
    this.#lock();
    try {
      if (t.count === 0) return keys;
      const now = t.heap.length === 0 ? 0 : this.#clock.now();
      for (let e = t.lruTail(); e !== 0; e = t.towardsFront(e)) {
        const expires = this.#f64[e + EW_EXPIRES] as number;
        if (expires === 0 || expires > now) {
          if (keys.push(t.keyOf(e)) === limit) break;
        }
      }
      return keys;
    } finally {
      this.#unlock();
    }
  }

  // ---- memory ----

  capacity(): number {
    return this.#f64[HF_CAPACITY] as number;
  }

  freeSpace(): number {
    this.#lock();
    try {
      return this.#t.capacity - this.#t.used;
    } finally {
      this.#unlock();
    }
  }

  #lock(): void {
    if (this.#shared) lock(this.#i32, LOCK);
  }

  #unlock(): void {
    if (this.#shared) unlock(this.#i32, LOCK);
  }

  // ---- entry fields ----

  #type(e: number): number {
    return this.#i32[(e << 1) + E_TYPE] as number;
  }

  #flags(e: number): number {
    return (this.#i32[(e << 1) + E_FLAGS] as number) >>> 0;
  }

  #keyBytes(e: number): number {
    return this.#i32[(e << 1) + E_KEYLEN] as number;
  }

  #expired(e: number): boolean {
    const expires = this.#f64[e + EW_EXPIRES] as number;
    return expires !== 0 && expires <= this.#clock.now();
  }

  /** The value handed out (bytes are copied so callers cannot change what the dict holds); undefined for a list. */
  #value(e: number): SharedDictValue | undefined {
    const type = this.#type(e);
    if (type === T_NUM) return this.#f64[e + EW_NUM] as number;
    if (type === T_STR) return this.#t.stringValue(e);
    if (type === T_BOOL) return (this.#f64[e + EW_NUM] as number) !== 0;
    if (type === T_BYTES) return this.#t.bytesValue(e);
    return undefined;
  }
}
