// The contract every shared-dict store honours: OpenResty's ngx.shared.DICT, method for method.

/**
 * A key. Strings are used as they are; numbers (and, at run time, booleans) are turned into
 * strings first, as Lua's `tostring` does for non-string keys.
 */
export type SharedDictKey = string | number;

/** What a dict holds under a key. A `Uint8Array` is the TypeScript form of a binary Lua string. */
export type SharedDictValue = string | number | boolean | Uint8Array;

/** What a list (lpush/rpush) holds: strings and numbers only, as in OpenResty. */
export type SharedDictListValue = string | number | Uint8Array;

/*
 * Results. Where Lua returns several values, TypeScript gets a tuple in the same order, with
 * `undefined` wherever Lua has nil; each union lists the shapes OpenResty really returns.
 * `err` is a message string ("not found", "no memory", ...): runtime failures are returned,
 * never thrown. Misuse (a negative exptime, a key that is an object) throws BadArgumentError.
 */

/** set, safeSet, add, safeAdd, replace, delete: `ok, err, forcible`. Key and value-type errors give `nil, err`. */
export type SharedDictStoreResult =
  | readonly [ok: true, err: undefined, forcible: boolean]
  | readonly [ok: false, err: string, forcible: boolean]
  | readonly [ok: undefined, err: string, forcible: undefined];

/** get's full result: `value, flags` (flags nil when 0), `nil` when absent, `nil, err` on error. */
export type SharedDictGetResult =
  | readonly [value: SharedDictValue | undefined, flags: number | undefined]
  | readonly [value: undefined, err: string];

/** get_stale: `value, flags, stale`; `nil` when absent; `nil, err` on error. */
export type SharedDictGetStaleResult =
  | readonly [value: SharedDictValue, flags: number | undefined, stale: boolean]
  | readonly [value: undefined, flags: undefined, stale: undefined]
  | readonly [value: undefined, err: string, stale: undefined];

/** incr: the new value; `forcible` only when `init` was given (else nil), `nil, err` on failure. */
export type SharedDictIncrResult =
  | readonly [value: number, err: undefined, forcible: boolean | undefined]
  | readonly [value: undefined, err: string, forcible: undefined];

/** lpush, rpush: the new length; `false, "no memory"`; `nil, err` for the other errors. */
export type SharedDictPushResult =
  | readonly [length: number, err: undefined]
  | readonly [length: false | undefined, err: string];

/** lpop, rpop: the value, `nil` for a missing key, `nil, err` on error. */
export type SharedDictPopResult =
  | readonly [value: SharedDictListValue | undefined, err: undefined]
  | readonly [value: undefined, err: string];

/** llen: the length (0 for a missing key), `nil, err` on error. */
export type SharedDictLlenResult = readonly [length: number, err: undefined] | readonly [length: undefined, err: string];

/** ttl: seconds left (0: never expires; negative: expired but not yet freed), `nil, err` on error. */
export type SharedDictTtlResult = readonly [seconds: number, err: undefined] | readonly [seconds: undefined, err: string];

/** expire: `true`, or `nil, err`. */
export type SharedDictExpireResult = readonly [ok: true, err: undefined] | readonly [ok: undefined, err: string];

/**
 * One dict, whatever keeps its data. `SharedDict` is the in-process store and answers
 * synchronously. Handler code is written against this interface (camelCase names of
 * OpenResty's methods), so another store can replace the in-process one without changes.
 *
 * A store that spans processes or hosts (RedisSharedDict) cannot answer synchronously: it
 * implements `AsyncSharedDictStore`, the same methods returning promises of the same tuples.
 * Handlers that `await` results work with both (awaiting a plain value is harmless), and the
 * Lua runtime yields the handler's coroutine while a promise is pending, so Lua code keeps
 * calling `ngx.shared.DICT:get(k)` unchanged. Such a store also differs in what cannot
 * be promised across machines: LRU order, `capacity()`/`freeSpace()` (the server's memory
 * policy), and atomicity beyond one call (each method must still be one atomic step, e.g. a
 * Lua script on the Redis server for incr-with-init or add).
 */
export interface SharedDictStore {
  /** The dict's name, as in `ngx.shared[name]`. */
  readonly name: string;

  /** The value, or `undefined` (missing, expired, a list, or a bad key). */
  get(key: SharedDictKey): SharedDictValue | undefined;
  /** get's full result: `[value, flags]`. */
  getWithFlags(key: SharedDictKey): SharedDictGetResult;
  /** Like getWithFlags, but also returns an expired value not freed yet: `[value, flags, stale]`. */
  getStale(key: SharedDictKey): SharedDictGetStaleResult;

  /** Stores unconditionally; `undefined`/`null` deletes. Evicts LRU entries when full. */
  set(key: SharedDictKey, value: SharedDictValue | null | undefined, exptime?: number, flags?: number): SharedDictStoreResult;
  /** Like set, but fails with "no memory" rather than evict a live entry. */
  safeSet(key: SharedDictKey, value: SharedDictValue | null | undefined, exptime?: number, flags?: number): SharedDictStoreResult;
  /** Stores only if the key is absent or expired ("exists" otherwise). */
  add(key: SharedDictKey, value: SharedDictValue, exptime?: number, flags?: number): SharedDictStoreResult;
  /** Like add, but fails with "no memory" rather than evict a live entry. */
  safeAdd(key: SharedDictKey, value: SharedDictValue, exptime?: number, flags?: number): SharedDictStoreResult;
  /** Stores only if the key is present and unexpired ("not found" otherwise). */
  replace(key: SharedDictKey, value: SharedDictValue, exptime?: number, flags?: number): SharedDictStoreResult;
  /** Removes the key (same as `set(key, undefined)`). */
  delete(key: SharedDictKey): SharedDictStoreResult;

  /** Adds `value` to a number; with `init`, a missing key starts at `init` (with `initTtl` seconds to live). */
  incr(key: SharedDictKey, value: number, init?: number, initTtl?: number): SharedDictIncrResult;

  /** Pushes at the head of the list under `key` (created if missing). Never evicts. */
  lpush(key: SharedDictKey, value: SharedDictListValue): SharedDictPushResult;
  /** Pushes at the tail of the list under `key` (created if missing). Never evicts. */
  rpush(key: SharedDictKey, value: SharedDictListValue): SharedDictPushResult;
  /** Removes and returns the head of the list; the key goes when the list is empty. */
  lpop(key: SharedDictKey): SharedDictPopResult;
  /** Removes and returns the tail of the list; the key goes when the list is empty. */
  rpop(key: SharedDictKey): SharedDictPopResult;
  /** Number of items in the list (0 if the key is missing). */
  llen(key: SharedDictKey): SharedDictLlenResult;

  /** Seconds left to live (0: no expiry). */
  ttl(key: SharedDictKey): SharedDictTtlResult;
  /** Sets a new time to live in seconds (0: never expire). */
  expire(key: SharedDictKey, exptime: number): SharedDictExpireResult;

  /** Marks every entry expired (OpenResty frees their memory lazily). */
  flushAll(): void;
  /** Frees expired entries, at most `max` of them (0: all); returns how many. */
  flushExpired(max?: number): number;
  /** Unexpired keys, at most `max` (default 1024; 0: all), least recently used first. */
  getKeys(max?: number): string[];

  /** Capacity in bytes. */
  capacity(): number;
  /** Bytes not used by entries. */
  freeSpace(): number;
}

/** A store that answers asynchronously (across processes or hosts): the same methods, promised. */
export type AsyncSharedDictStore = {
  readonly name: string;
  /** Marks a store whose calls wait: Lua yields on them, and phases that cannot wait refuse them. */
  readonly async: true;
} & {
  [M in Exclude<keyof SharedDictStore, 'name'>]: SharedDictStore[M] extends (...args: infer A) => infer R
    ? (...args: A) => Promise<R>
    : never;
};

/** Any dict `ngx.shared` holds: in shared memory (answers at once) or on a server (answers with promises). */
export type AnySharedDict = SharedDictStore | AsyncSharedDictStore;

/** True for a store whose calls return promises. */
export function isAsyncStore(dict: AnySharedDict): dict is AsyncSharedDictStore {
  return (dict as { async?: unknown }).async === true;
}
