// The in-process SharedDict as it was before shared memory (a Map, an LRU list of objects and an
// expiry heap): the oracle the shared-memory store is checked against, and the benchmarks baseline.

import { systemClock } from '../clock.js';
import type { Clock } from '../clock.js';
import { BadArgumentError } from '../errors.js';
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

interface SharedDictOptions {
  /** Time source for expiry (milliseconds since the epoch). Defaults to `systemClock`. */
  clock?: Clock;
}

/**
 * Bytes charged against capacity on top of key and value bytes. They are the sizes of
 * nginx's own structs on 64-bit: an rbtree node plus `ngx_http_lua_shdict_node_t` (68), a
 * list's queue head (16), and `ngx_http_lua_shdict_list_node_t` per list item (21).
 */
const SHARED_DICT_OVERHEAD = Object.freeze({ entry: 68, listHead: 16, listNode: 21 });

const ENTRY = SHARED_DICT_OVERHEAD.entry;
const LIST_HEAD = SHARED_DICT_OVERHEAD.listHead;
const LIST_NODE = SHARED_DICT_OVERHEAD.listNode;
const MAX_KEY_BYTES = 65535;
/** Below this many UTF-16 units a key cannot exceed 65535 UTF-8 bytes, so its length need not be measured. */
const SAFE_KEY_UNITS = Math.floor(MAX_KEY_BYTES / 3);
/** The expiry flushAll gives every entry: long past, as nginx's `expires = 1`. */
const FLUSHED = -1;

// Value types (nginx's SHDICT_T* where there is one).
const T_BOOL = 1;
const T_NUM = 3;
const T_STR = 4;
const T_LIST = 5;
const T_BYTES = 6;

// Store operations, nginx's NGX_HTTP_LUA_SHDICT_* bits.
const OP_SET = 0;
const OP_ADD = 1;
const OP_REPLACE = 2;
const OP_SAFE = 4;

// #makeRoom outcomes.
const NO_ROOM = 0;
const ROOM = 1;
const ROOM_FORCIBLE = 2;

type Scalar = string | number | boolean | Uint8Array;

/** Results are frozen and shared: storing allocates nothing beyond the entry itself. */
function result<T extends readonly unknown[]>(...values: T): T {
  return Object.freeze(values);
}
const OK = result(true, undefined, false) as SharedDictStoreResult;
const OK_FORCIBLE = result(true, undefined, true) as SharedDictStoreResult;
const EXISTS = result(false, 'exists', false) as SharedDictStoreResult;
const NOT_FOUND = result(false, 'not found', false) as SharedDictStoreResult;
const NO_MEMORY = result(false, 'no memory', false) as SharedDictStoreResult;
const ADD_NIL = result(false, 'attempt to add or replace nil values', false) as SharedDictStoreResult;
const BAD_VALUE_TYPE = result(undefined, 'bad value type', undefined) as SharedDictStoreResult;
const GET_NIL = result(undefined, undefined) as SharedDictGetResult;
const GET_LIST = result(undefined, 'value is a list') as SharedDictGetResult;
const STALE_NIL = result(undefined, undefined, undefined) as SharedDictGetStaleResult;
const STALE_LIST = result(undefined, 'value is a list', undefined) as SharedDictGetStaleResult;
const INCR_NOT_FOUND = result(undefined, 'not found', undefined) as SharedDictIncrResult;
const INCR_NOT_A_NUMBER = result(undefined, 'not a number', undefined) as SharedDictIncrResult;
const INCR_NO_MEMORY = result(undefined, 'no memory', undefined) as SharedDictIncrResult;
const PUSH_NO_MEMORY = result(false, 'no memory') as SharedDictPushResult;
const PUSH_BAD_VALUE_TYPE = result(undefined, 'bad value type') as SharedDictPushResult;
const NOT_A_LIST = result(undefined, 'value not a list') as SharedDictPushResult & SharedDictPopResult & SharedDictLlenResult;
const POP_NIL = result(undefined, undefined) as SharedDictPopResult;
const LLEN_ZERO = result(0, undefined) as SharedDictLlenResult;
const TTL_NOT_FOUND = result(undefined, 'not found') as SharedDictTtlResult;
const TTL_NEVER = result(0, undefined) as SharedDictTtlResult;
const EXPIRE_OK = result(true, undefined) as SharedDictExpireResult;
const EXPIRE_NOT_FOUND = result(undefined, 'not found') as SharedDictExpireResult;

/** A double-ended queue of list items (a ring buffer; lpush must not be O(n)). */
class Deque {
  buf: (SharedDictListValue | undefined)[] = new Array<SharedDictListValue | undefined>(4);
  head = 0;
  length = 0;

  pushBack(v: SharedDictListValue): void {
    if (this.length === this.buf.length) this.#grow();
    this.buf[(this.head + this.length) & (this.buf.length - 1)] = v;
    this.length++;
  }

  pushFront(v: SharedDictListValue): void {
    if (this.length === this.buf.length) this.#grow();
    this.head = (this.head - 1) & (this.buf.length - 1);
    this.buf[this.head] = v;
    this.length++;
  }

  popFront(): SharedDictListValue {
    const v = this.buf[this.head] as SharedDictListValue;
    this.buf[this.head] = undefined;
    this.head = (this.head + 1) & (this.buf.length - 1);
    this.length--;
    return v;
  }

  popBack(): SharedDictListValue {
    const i = (this.head + this.length - 1) & (this.buf.length - 1);
    const v = this.buf[i] as SharedDictListValue;
    this.buf[i] = undefined;
    this.length--;
    return v;
  }

  #grow(): void {
    const old = this.buf;
    const buf = new Array<SharedDictListValue | undefined>(old.length * 2);
    for (let i = 0; i < this.length; i++) buf[i] = old[(this.head + i) & (old.length - 1)];
    this.buf = buf;
    this.head = 0;
  }
}

/** One key: its value, its place in the LRU list and, when it has an expiry, in the expiry heap. */
class Entry {
  key: string;
  keyBytes: number;
  type: number;
  value: Scalar | Deque;
  /** Bytes of the value (for a list: its head plus every node). */
  valueBytes: number;
  flags: number;
  /** Milliseconds since the epoch; 0 means never. */
  expires = 0;
  /** Position in the expiry heap, -1 when not in it (expires === 0). */
  heapIndex = -1;
  /** Towards the most recently used end. */
  prev: Entry = this;
  /** Towards the least recently used end. */
  next: Entry = this;

  constructor(key: string, keyBytes: number, type: number, value: Scalar | Deque, valueBytes: number, flags: number) {
    this.key = key;
    this.keyBytes = keyBytes;
    this.type = type;
    this.value = value;
    this.valueBytes = valueBytes;
    this.flags = flags;
  }
}

/** UTF-8 length of a string: what the string costs in nginx, which stores Lua strings as bytes. */
function utf8Length(s: string): number {
  const n = s.length;
  if (n <= 32) {
    for (let i = 0; i < n; i++) if (s.charCodeAt(i) > 0x7f) return Buffer.byteLength(s, 'utf8');
    return n;
  }
  return Buffer.byteLength(s, 'utf8');
}

function itemBytes(v: SharedDictListValue): number {
  return typeof v === 'string' ? utf8Length(v) : typeof v === 'number' ? 8 : v.byteLength;
}

function typeName(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

/**
 * The key as a string, or '' when OpenResty answers `nil, err` for it (nil, empty, over 65535
 * bytes; see keyError). Non-string keys are stringified as Lua's tostring would; keys that
 * Lua could not have (objects, functions, symbols) are misuse and throw.
 */
function toKey(key: unknown): string {
  let s: string;
  if (typeof key === 'string') s = key;
  else if (typeof key === 'number' || typeof key === 'boolean' || typeof key === 'bigint') s = String(key);
  else if (key === undefined || key === null) return '';
  else throw new BadArgumentError(`bad "key" argument: string expected, got ${typeName(key)}`);
  if (s.length > SAFE_KEY_UNITS && Buffer.byteLength(s, 'utf8') > MAX_KEY_BYTES) return '';
  return s;
}

/** The message for a key toKey() turned down. */
function keyError(key: unknown): string {
  if (key === undefined || key === null) return 'nil key';
  return String(key) === '' ? 'empty key' : 'key too long';
}

/** exptime in seconds → whole milliseconds, truncated like nginx's `(long) (exptime * 1000)`. */
function exptimeMs(exptime: unknown): number {
  if (exptime === undefined || exptime === null || exptime === false || exptime === 0) return 0;
  if (typeof exptime !== 'number' || !(exptime >= 0) || exptime === Infinity) {
    throw new BadArgumentError(`bad "exptime" argument: expected seconds >= 0, got ${typeof exptime === 'number' ? exptime : typeName(exptime)}`);
  }
  return Math.trunc(exptime * 1000);
}

function toFlags(flags: unknown): number {
  if (flags === undefined || flags === null || flags === false || flags === 0) return 0;
  if (typeof flags !== 'number' || !Number.isInteger(flags) || flags < 0 || flags > 0xffffffff) {
    throw new BadArgumentError(`bad "flags" argument: expected an unsigned 32-bit integer, got ${typeof flags === 'number' ? flags : typeName(flags)}`);
  }
  return flags;
}

const LUA_NUMBER = /^[-+]?(?:0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)$/;

/** Lua's tonumber() for the arguments OpenResty converts (incr's value, init, init_ttl). */
function luaToNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v !== 'string') return undefined;
  const s = v.trim();
  if (!LUA_NUMBER.test(s)) return undefined;
  if (s.charAt(0) === '-') return -Number(s.slice(1));
  return Number(s.charAt(0) === '+' ? s.slice(1) : s);
}

/**
 * `ngx.shared.DICT` in one process: the same methods, results and error strings as
 * OpenResty, with memory accounted against `capacity` and least-recently-used eviction.
 * Every method is synchronous and usable in every phase, `init` included.
 */
export class MapSharedDict implements SharedDictStore {
  readonly name: string;
  readonly #capacity: number;
  readonly #clock: Clock;
  readonly #map = new Map<string, Entry>();
  /** Sentinel of the circular LRU list: `#lru.next` is the most recently used entry, `#lru.prev` the least. */
  readonly #lru = new Entry('', 0, 0, 0, 0, 0);
  /** Entries with an expiry, as a binary min-heap on `expires`. */
  readonly #heap: Entry[] = [];
  #used = 0;

  constructor(name: string, capacity: number | string, options: SharedDictOptions = {}) {
    if (typeof name !== 'string' || name === '') {
      throw new BadArgumentError(`invalid shared dict name ${JSON.stringify(name)}: expected a non-empty string`);
    }
    const bytes = parseSize(capacity);
    if (bytes < 1) throw new BadArgumentError(`invalid shared dict size ${JSON.stringify(capacity)} for "${name}": must be at least 1 byte`);
    this.name = name;
    this.#capacity = bytes;
    this.#clock = options.clock ?? systemClock;
  }

  // ---- reads ----

  get(key: SharedDictKey): SharedDictValue | undefined {
    const k = typeof key === 'string' && key.length !== 0 && key.length <= SAFE_KEY_UNITS ? key : toKey(key);
    const e = this.#map.get(k);
    if (e === undefined) return undefined;
    if (e.expires !== 0 && e.expires <= this.#clock.now()) return undefined;
    this.#touch(e);
    if (e.type >= T_LIST) return e.type === T_LIST ? undefined : new Uint8Array(e.value as Uint8Array);
    return e.value as SharedDictValue;
  }

  getWithFlags(key: SharedDictKey): SharedDictGetResult {
    const k = toKey(key);
    if (k === '') return [undefined, keyError(key)];
    const e = this.#map.get(k);
    if (e === undefined || (e.expires !== 0 && e.expires <= this.#clock.now())) return GET_NIL;
    this.#touch(e);
    if (e.type === T_LIST) return GET_LIST;
    return [copyValue(e), e.flags === 0 ? undefined : e.flags];
  }

  getStale(key: SharedDictKey): SharedDictGetStaleResult {
    const k = toKey(key);
    if (k === '') return [undefined, keyError(key), undefined];
    const e = this.#map.get(k);
    if (e === undefined) return STALE_NIL;
    this.#touch(e);
    if (e.type === T_LIST) return STALE_LIST;
    return [copyValue(e), e.flags === 0 ? undefined : e.flags, e.expires !== 0 && e.expires <= this.#clock.now()];
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

    let type: number;
    let bytes: number;
    let v = value as Scalar;
    switch (typeof value) {
      case 'string':
        type = T_STR;
        bytes = utf8Length(value);
        break;
      case 'number':
        type = T_NUM;
        bytes = 8;
        break;
      case 'boolean':
        type = T_BOOL;
        bytes = 1;
        break;
      case 'undefined':
        type = 0;
        bytes = 0;
        break;
      case 'object':
        if (value === null) {
          type = 0;
          bytes = 0;
        } else if (value instanceof Uint8Array) {
          type = T_BYTES;
          bytes = value.byteLength;
          v = new Uint8Array(value); // the dict keeps its own copy, as shared memory does
        } else {
          return BAD_VALUE_TYPE;
        }
        break;
      default:
        return BAD_VALUE_TYPE;
    }
    if (type === 0 && (op & (OP_ADD | OP_REPLACE)) !== 0) return ADD_NIL;

    let now = NaN;
    const e = this.#map.get(k);
    let keyBytes: number;
    if (e !== undefined) {
      let live = true;
      if (e.expires !== 0) {
        now = this.#clock.now();
        live = e.expires > now;
      }
      if ((op & OP_REPLACE) !== 0) {
        if (!live) return NOT_FOUND;
      } else if ((op & OP_ADD) !== 0 && live) {
        return EXISTS;
      }
      if (type === 0) {
        this.#remove(e);
        return OK;
      }
      const delta = bytes - e.valueBytes;
      if (e.type !== T_LIST && this.#used + delta <= this.#capacity) {
        // Reuse the entry (nginx reuses the node when the sizes match; here any size that fits).
        e.type = type;
        e.value = v;
        e.valueBytes = bytes;
        this.#used += delta;
        e.flags = fl;
        if (ms > 0) this.#setExpires(e, (now === now ? now : this.#clock.now()) + ms);
        else if (e.expires !== 0) this.#setExpires(e, 0);
        this.#touch(e);
        return OK;
      }
      // nginx frees the old node before allocating the new one: if the store then fails, the key is gone.
      keyBytes = e.keyBytes;
      this.#remove(e);
    } else {
      if ((op & OP_REPLACE) !== 0) return NOT_FOUND;
      if (type === 0) return OK;
      keyBytes = utf8Length(k);
    }

    const size = ENTRY + keyBytes + bytes;
    if (size > this.#capacity) return NO_MEMORY;
    const room = this.#makeRoom(size, (op & OP_SAFE) === 0, now);
    if (room === NO_ROOM) return NO_MEMORY;
    const added = this.#insert(k, keyBytes, type, v, bytes, fl);
    if (ms > 0) this.#setExpires(added, this.#clock.now() + ms);
    return room === ROOM_FORCIBLE ? OK_FORCIBLE : OK;
  }

  // ---- numbers ----

  incr(key: SharedDictKey, value: number, init?: number, initTtl?: number): SharedDictIncrResult {
    const k = typeof key === 'string' && key.length !== 0 && key.length <= SAFE_KEY_UNITS ? key : toKey(key);
    if (k === '') return [undefined, keyError(key), undefined];
    const step = typeof value === 'number' ? value : luaToNumber(value);
    if (step === undefined) throw new BadArgumentError(`bad "value" argument: number expected, got ${typeName(value)}`);

    // Lua's `if init then`: nil and false mean no init.
    let hasInit = false;
    let start = 0;
    if (init !== undefined && init !== null && (init as unknown) !== false) {
      const n = luaToNumber(init);
      if (n === undefined) throw new BadArgumentError(`bad init arg: number expected, got ${typeName(init)}`);
      hasInit = true;
      start = n;
    }
    let ttlMs = 0;
    if (initTtl !== undefined && initTtl !== null) {
      const n = luaToNumber(initTtl);
      if (n === undefined) throw new BadArgumentError(`bad init_ttl arg: number expected, got ${typeName(initTtl)}`);
      if (!(n >= 0) || n === Infinity) throw new BadArgumentError('bad "init_ttl" argument');
      if (!hasInit) throw new BadArgumentError('must provide "init" when providing "init_ttl"');
      ttlMs = Math.trunc(n * 1000);
    }

    let now = NaN;
    const e = this.#map.get(k);
    if (e !== undefined) {
      if (e.expires === 0 || e.expires > (now = this.#clock.now())) {
        if (e.type !== T_NUM) return INCR_NOT_A_NUMBER;
        const n = (e.value as number) + step;
        e.value = n;
        this.#touch(e);
        return [n, undefined, hasInit ? false : undefined];
      }
    }
    if (!hasInit) return INCR_NOT_FOUND;

    // Missing or expired: start from init (nginx: value + init), with init_ttl.
    const n = step + start;
    let keyBytes: number;
    if (e !== undefined) {
      keyBytes = e.keyBytes;
      this.#remove(e);
    } else {
      keyBytes = utf8Length(k);
    }
    const size = ENTRY + keyBytes + 8;
    if (size > this.#capacity) return INCR_NO_MEMORY;
    const room = this.#makeRoom(size, true, now);
    if (room === NO_ROOM) return INCR_NO_MEMORY;
    const added = this.#insert(k, keyBytes, T_NUM, n, 8, 0);
    if (ttlMs > 0) this.#setExpires(added, this.#clock.now() + ttlMs);
    return [n, undefined, room === ROOM_FORCIBLE];
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
    const e = this.#map.get(k);
    if (e === undefined || (e.expires !== 0 && e.expires <= this.#clock.now())) return LLEN_ZERO;
    this.#touch(e); // nginx's lookup counts as use before the type is checked
    if (e.type !== T_LIST) return NOT_A_LIST;
    return [(e.value as Deque).length, undefined];
  }

  #push(key: unknown, value: unknown, left: boolean): SharedDictPushResult {
    const k = toKey(key);
    if (k === '') return [undefined, keyError(key)];
    let item: SharedDictListValue;
    if (typeof value === 'string' || typeof value === 'number') item = value;
    else if (value instanceof Uint8Array) item = new Uint8Array(value);
    else return PUSH_BAD_VALUE_TYPE;
    const node = LIST_NODE + itemBytes(item);

    let now = NaN;
    let e = this.#map.get(k);
    if (e !== undefined) {
      if (e.expires !== 0 && e.expires <= (now = this.#clock.now())) {
        // Expired: a list is emptied and reused without its expiry, anything else is dropped.
        if (e.type === T_LIST) {
          this.#used -= e.valueBytes - LIST_HEAD;
          e.valueBytes = LIST_HEAD;
          e.value = new Deque();
          this.#setExpires(e, 0);
        } else {
          this.#remove(e);
          e = undefined;
        }
      } else if (e.type !== T_LIST) {
        this.#touch(e);
        return NOT_A_LIST;
      }
    }

    // Pushes reclaim expired entries but never evict live ones.
    if (e === undefined) {
      const keyBytes = utf8Length(k);
      if (this.#makeRoom(ENTRY + keyBytes + LIST_HEAD + node, false, now) === NO_ROOM) return PUSH_NO_MEMORY;
      e = this.#insert(k, keyBytes, T_LIST, new Deque(), LIST_HEAD, 0);
    } else {
      this.#touch(e);
      if (this.#makeRoom(node, false, now) === NO_ROOM) {
        if ((e.value as Deque).length === 0) this.#remove(e); // nginx drops a list it emptied and could not refill
        return PUSH_NO_MEMORY;
      }
    }
    const list = e.value as Deque;
    if (left) list.pushFront(item);
    else list.pushBack(item);
    e.valueBytes += node;
    this.#used += node;
    return [list.length, undefined];
  }

  #pop(key: unknown, left: boolean): SharedDictPopResult {
    const k = toKey(key);
    if (k === '') return [undefined, keyError(key)];
    const e = this.#map.get(k);
    if (e === undefined || (e.expires !== 0 && e.expires <= this.#clock.now())) return POP_NIL;
    this.#touch(e);
    if (e.type !== T_LIST) return NOT_A_LIST;
    const list = e.value as Deque;
    const item = left ? list.popFront() : list.popBack();
    if (list.length === 0) {
      this.#remove(e);
    } else {
      const node = LIST_NODE + itemBytes(item);
      e.valueBytes -= node;
      this.#used -= node;
    }
    return [item, undefined];
  }

  // ---- expiry ----

  ttl(key: SharedDictKey): SharedDictTtlResult {
    const k = toKey(key);
    if (k === '') return [undefined, keyError(key)];
    const e = this.#map.get(k);
    if (e === undefined) return TTL_NOT_FOUND;
    if (e.expires === 0) return TTL_NEVER;
    // Like nginx (which peeks without checking expiry), an expired entry not yet freed gives a negative ttl.
    return [(e.expires - this.#clock.now()) / 1000, undefined];
  }

  expire(key: SharedDictKey, exptime: number): SharedDictExpireResult {
    if (typeof exptime !== 'number' || Number.isNaN(exptime) || exptime === Infinity) {
      throw new BadArgumentError(`bad "exptime" argument: expected seconds, got ${typeof exptime === 'number' ? exptime : typeName(exptime)}`);
    }
    const k = toKey(key);
    if (k === '') return [undefined, keyError(key)];
    const e = this.#map.get(k);
    if (e === undefined) return EXPIRE_NOT_FOUND;
    // nginx: exptime <= 0 (negative included) removes the expiry; an expired entry not yet freed comes back.
    const ms = Math.trunc(exptime * 1000);
    this.#setExpires(e, ms > 0 ? this.#clock.now() + ms : 0);
    return EXPIRE_OK;
  }

  flushAll(): void {
    // nginx marks every entry expired (get_stale still sees them) and frees only the three
    // least recently used at once; the rest go when room is needed or on flushExpired().
    const heap = this.#heap;
    heap.length = 0;
    for (let e = this.#lru.next; e !== this.#lru; e = e.next) {
      e.expires = FLUSHED;
      e.heapIndex = heap.length;
      heap.push(e);
    }
    for (let i = 0; i < 3 && this.#lru.prev !== this.#lru; i++) this.#remove(this.#lru.prev);
  }

  flushExpired(max = 0): number {
    const limit = toCount(max, 'max');
    if (this.#heap.length === 0) return 0;
    const now = this.#clock.now();
    let freed = 0;
    // From the least recently used end, as nginx walks its LRU queue.
    for (let e = this.#lru.prev; e !== this.#lru; ) {
      const prev = e.prev;
      if (e.expires !== 0 && e.expires <= now) {
        this.#remove(e);
        if (++freed === limit) break;
      }
      e = prev;
    }
    return freed;
  }

  getKeys(max = 1024): string[] {
    const limit = toCount(max, 'max');
    const keys: string[] = [];
    if (this.#map.size === 0) return keys;
    const now = this.#heap.length === 0 ? 0 : this.#clock.now();
    for (let e = this.#lru.prev; e !== this.#lru; e = e.prev) {
      if (e.expires === 0 || e.expires > now) {
        if (keys.push(e.key) === limit) break;
      }
    }
    return keys;
  }

  // ---- memory ----

  capacity(): number {
    return this.#capacity;
  }

  freeSpace(): number {
    return this.#capacity - this.#used;
  }

  // ---- internals ----

  #insert(key: string, keyBytes: number, type: number, value: Scalar | Deque, valueBytes: number, flags: number): Entry {
    const e = new Entry(key, keyBytes, type, value, valueBytes, flags);
    this.#map.set(key, e);
    const head = this.#lru;
    e.prev = head;
    e.next = head.next;
    head.next.prev = e;
    head.next = e;
    this.#used += ENTRY + keyBytes + valueBytes;
    return e;
  }

  #remove(e: Entry): void {
    this.#map.delete(e.key);
    e.prev.next = e.next;
    e.next.prev = e.prev;
    if (e.heapIndex !== -1) this.#heapDelete(e);
    this.#used -= ENTRY + e.keyBytes + e.valueBytes;
  }

  /** Moves an entry to the most recently used end. */
  #touch(e: Entry): void {
    const head = this.#lru;
    if (head.next === e) return;
    e.prev.next = e.next;
    e.next.prev = e.prev;
    e.prev = head;
    e.next = head.next;
    head.next.prev = e;
    head.next = e;
  }

  /**
   * Frees room for `need` more bytes: expired entries first (soonest expired first), then,
   * if `evict`, live entries from the least recently used end. `now` is the time the caller
   * already read (NaN if none), so an entry the caller judged live is not reclaimed here.
   */
  #makeRoom(need: number, evict: boolean, now: number): number {
    const cap = this.#capacity - need;
    if (this.#used <= cap) return ROOM;
    const heap = this.#heap;
    if (heap.length !== 0) {
      const t = now === now ? now : this.#clock.now();
      while (this.#used > cap && heap.length !== 0) {
        const top = heap[0] as Entry;
        if (top.expires > t) break;
        this.#remove(top);
      }
      if (this.#used <= cap) return ROOM;
    }
    if (!evict) return NO_ROOM;
    const lru = this.#lru;
    while (this.#used > cap) {
      if (lru.prev === lru) return NO_ROOM;
      this.#remove(lru.prev);
    }
    return ROOM_FORCIBLE;
  }

  #setExpires(e: Entry, expires: number): void {
    if (expires === 0) {
      if (e.heapIndex !== -1) this.#heapDelete(e);
      e.expires = 0;
      return;
    }
    const old = e.expires;
    e.expires = expires;
    if (e.heapIndex === -1) {
      e.heapIndex = this.#heap.length;
      this.#heap.push(e);
      this.#siftUp(e.heapIndex);
    } else if (expires < old) {
      this.#siftUp(e.heapIndex);
    } else {
      this.#siftDown(e.heapIndex);
    }
  }

  #heapDelete(e: Entry): void {
    const heap = this.#heap;
    const i = e.heapIndex;
    const last = heap.pop() as Entry;
    e.heapIndex = -1;
    if (last === e) return;
    heap[i] = last;
    last.heapIndex = i;
    this.#siftUp(i);
    this.#siftDown(last.heapIndex);
  }

  #siftUp(i: number): void {
    const heap = this.#heap;
    const e = heap[i] as Entry;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = heap[p] as Entry;
      if (parent.expires <= e.expires) break;
      heap[i] = parent;
      parent.heapIndex = i;
      i = p;
    }
    heap[i] = e;
    e.heapIndex = i;
  }

  #siftDown(i: number): void {
    const heap = this.#heap;
    const n = heap.length;
    const e = heap[i] as Entry;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      let child = heap[c] as Entry;
      if (c + 1 < n) {
        const right = heap[c + 1] as Entry;
        if (right.expires < child.expires) {
          c++;
          child = right;
        }
      }
      if (child.expires >= e.expires) break;
      heap[i] = child;
      child.heapIndex = i;
      i = c;
    }
    heap[i] = e;
    e.heapIndex = i;
  }
}

/** The value handed out: bytes are copied so callers cannot change what the dict holds. */
function copyValue(e: Entry): SharedDictValue {
  return e.type === T_BYTES ? new Uint8Array(e.value as Uint8Array) : (e.value as SharedDictValue);
}

/** A `max` argument: truncated like luaL_checkint; 0 or negative means no limit (returns 0). */
function toCount(max: unknown, name: string): number {
  if (typeof max !== 'number' || Number.isNaN(max)) {
    throw new BadArgumentError(`bad "${name}" argument: number expected, got ${typeName(max)}`);
  }
  const n = Math.trunc(max);
  return n > 0 ? n : 0;
}
