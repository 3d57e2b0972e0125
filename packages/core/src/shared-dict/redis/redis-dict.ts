// RedisSharedDict: ngx.shared.DICT kept in Redis, so several phasekit hosts share one dict. Every
// method is one atomic step on the server (a script where it reads and writes); every call waits.

import type { Clock } from '../../clock.js';
import { PhasekitError } from '../../errors.js';
import { checkExpireTime, exptimeMs, incrArgs, keyError, T_BOOL, T_BYTES, T_LIST, T_NUM, T_STR, toCount, toFlags, toKey, valueType, type IncrArgs } from '../args.js';
import {
  ADD_NIL, BAD_VALUE_TYPE, EXISTS, EXPIRE_NOT_FOUND, EXPIRE_OK, GET_LIST, GET_NIL, INCR_NOT_A_NUMBER, INCR_NOT_FOUND, LLEN_ZERO, NO_MEMORY, NOT_A_LIST,
  NOT_FOUND, OK, POP_NIL, PUSH_BAD_VALUE_TYPE, PUSH_NO_MEMORY, STALE_LIST, STALE_NIL, TTL_NEVER, TTL_NOT_FOUND,
} from '../results.js';
import type {
  AsyncSharedDictStore, SharedDictExpireResult, SharedDictGetResult, SharedDictGetStaleResult, SharedDictIncrResult, SharedDictKey, SharedDictListValue,
  SharedDictLlenResult, SharedDictPopResult, SharedDictPushResult, SharedDictStoreResult, SharedDictTtlResult, SharedDictValue,
} from '../store.js';
import { RedisCallError, type RedisConnection } from './connection.js';

export interface RedisSharedDictOptions {
  /** What the dict reports as capacity() (Redis's own memory limit is its maxmemory). */
  capacity: number;
  clock: Clock;
  /** Key prefix; default `phasekit:{<name>}:` (the braces keep a dict's keys in one cluster slot). */
  prefix?: string;
  /** Milliseconds Redis keeps an expired entry for get_stale (default 60 s). */
  staleGraceMs?: number;
}

const SCAN_COUNT = 500;

/** One list item on the wire: its type byte, then the number, string or bytes. */
function encodeItem(v: SharedDictListValue): Buffer {
  if (typeof v === 'number') return Buffer.from(`n${String(v)}`);
  if (typeof v === 'string') return Buffer.concat([Buffer.from('s'), Buffer.from(v, 'utf8')]);
  return Buffer.concat([Buffer.from('b'), v]);
}

function decodeItem(b: Buffer): SharedDictListValue {
  const t = b[0];
  if (t === 0x6e) return Number(b.subarray(1).toString());
  if (t === 0x73) return b.subarray(1).toString('utf8');
  return new Uint8Array(b.subarray(1));
}

function decodeValue(type: number, v: Buffer): SharedDictValue {
  if (type === T_NUM) return Number(v.toString());
  if (type === T_STR) return v.toString('utf8');
  if (type === T_BOOL) return v[0] === 0x31;
  return new Uint8Array(v);
}

/** The message a failed call returns as `err`. */
const reason = (err: unknown) => (err instanceof RedisCallError ? err.message : `redis: ${(err as Error).message}`);

/**
 * `ngx.shared.DICT` on a Redis server: the same methods, results and error strings as the
 * shared-memory store, each promised. What Redis decides instead of the dict: memory and
 * eviction (its maxmemory policy; `forcible` is always false, a refused write is "no memory"),
 * key order (get_keys lists keys in SCAN order), and how long expired entries stay visible to
 * get_stale (`staleGraceMs`). A failed call (server down, timeout) gives `nil, "redis: ..."`.
 */
export class RedisSharedDict implements AsyncSharedDictStore {
  readonly name: string;
  readonly async = true as const;
  readonly #conn: RedisConnection;
  readonly #capacity: number;
  readonly #clock: Clock;
  readonly #prefix: string;
  readonly #grace: number;
  readonly #incr: IncrArgs = { step: 0, hasInit: false, start: 0, ttlMs: 0 };

  constructor(name: string, connection: RedisConnection, options: RedisSharedDictOptions) {
    this.name = name;
    this.#conn = connection;
    this.#capacity = options.capacity;
    this.#clock = options.clock;
    this.#prefix = options.prefix ?? `phasekit:{${name}}:`;
    this.#grace = options.staleGraceMs ?? 60_000;
  }

  #h(k: string): string {
    return `${this.#prefix}h:${k}`;
  }

  #l(k: string): string {
    return `${this.#prefix}l:${k}`;
  }

  // ---- reads ----

  async get(key: SharedDictKey): Promise<SharedDictValue | undefined> {
    const [v] = await this.getWithFlags(key);
    return v;
  }

  async getWithFlags(key: SharedDictKey): Promise<SharedDictGetResult> {
    const k = toKey(key);
    if (k === '') return [undefined, keyError(key)];
    try {
      const [t, v, f, e] = (await this.#conn.call('hmgetBuffer', this.#h(k), 't', 'v', 'f', 'e')) as (Buffer | null)[];
      if (t === null || t === undefined || !this.#live(e)) return GET_NIL;
      const type = Number(t.toString());
      if (type === T_LIST) return GET_LIST;
      const flags = Number(f?.toString() ?? 0);
      return [decodeValue(type, v ?? Buffer.alloc(0)), flags === 0 ? undefined : flags];
    } catch (err) {
      return [undefined, reason(err)];
    }
  }

  async getStale(key: SharedDictKey): Promise<SharedDictGetStaleResult> {
    const k = toKey(key);
    if (k === '') return [undefined, keyError(key), undefined];
    try {
      const [t, v, f, e] = (await this.#conn.call('hmgetBuffer', this.#h(k), 't', 'v', 'f', 'e')) as (Buffer | null)[];
      if (t === null || t === undefined) return STALE_NIL;
      const type = Number(t.toString());
      if (type === T_LIST) return STALE_LIST;
      const flags = Number(f?.toString() ?? 0);
      return [decodeValue(type, v ?? Buffer.alloc(0)), flags === 0 ? undefined : flags, !this.#live(e)];
    } catch (err) {
      return [undefined, reason(err), undefined];
    }
  }

  #live(e: Buffer | null | undefined): boolean {
    const ms = Number(e?.toString() ?? 0);
    return ms === 0 || ms > this.#clock.now();
  }

  // ---- scalar stores ----

  set(key: SharedDictKey, value: SharedDictValue | null | undefined, exptime?: number, flags?: number): Promise<SharedDictStoreResult> {
    return this.#store('set', key, value, exptime, flags);
  }

  safeSet(key: SharedDictKey, value: SharedDictValue | null | undefined, exptime?: number, flags?: number): Promise<SharedDictStoreResult> {
    return this.#store('set', key, value, exptime, flags);
  }

  add(key: SharedDictKey, value: SharedDictValue, exptime?: number, flags?: number): Promise<SharedDictStoreResult> {
    return this.#store('add', key, value, exptime, flags);
  }

  safeAdd(key: SharedDictKey, value: SharedDictValue, exptime?: number, flags?: number): Promise<SharedDictStoreResult> {
    return this.#store('add', key, value, exptime, flags);
  }

  replace(key: SharedDictKey, value: SharedDictValue, exptime?: number, flags?: number): Promise<SharedDictStoreResult> {
    return this.#store('replace', key, value, exptime, flags);
  }

  delete(key: SharedDictKey): Promise<SharedDictStoreResult> {
    return this.#store('set', key, undefined, 0, 0);
  }

  /** Checks as the shm store does (misuse throws now), then one STORE script. */
  #store(op: 'set' | 'add' | 'replace', key: unknown, value: unknown, exptime: unknown, flags: unknown): Promise<SharedDictStoreResult> {
    const ms = exptimeMs(exptime);
    const fl = toFlags(flags);
    const k = toKey(key);
    if (k === '') return Promise.resolve([undefined, keyError(key), undefined]);
    const type = valueType(value);
    if (type === -1) return Promise.resolve(BAD_VALUE_TYPE);
    if (type === 0 && op !== 'set') return Promise.resolve(ADD_NIL);
    const wire = type === T_BYTES ? Buffer.from(value as Uint8Array) : type === T_BOOL ? (value ? '1' : '0') : type === 0 ? '' : String(value);
    return this.#run(async (now) => {
      const r = String(await this.#conn.script('pkStore', [this.#h(k), this.#l(k)], [now, op, type, wire, fl, ms > 0 ? now + ms : 0, this.#grace]));
      return r === 'ok' ? OK : r === 'exists' ? EXISTS : NOT_FOUND;
    }, (err) => (err instanceof RedisCallError && err.oom ? NO_MEMORY : [undefined, reason(err), undefined]));
  }

  // ---- numbers ----

  incr(key: SharedDictKey, value: number, init?: number, initTtl?: number): Promise<SharedDictIncrResult> {
    const k = toKey(key);
    if (k === '') return Promise.resolve([undefined, keyError(key), undefined]);
    const { step, hasInit, start, ttlMs } = incrArgs(value, init, initTtl, this.#incr);
    return this.#run(async (now) => {
      const [status, v] = (await this.#conn.script('pkIncr', [this.#h(k), this.#l(k)], [now, String(step), hasInit ? '1' : '0', String(start), ttlMs > 0 ? now + ttlMs : 0, this.#grace])) as Buffer[];
      const s = String(status);
      if (s === 'not a number') return INCR_NOT_A_NUMBER;
      if (s === 'not found') return INCR_NOT_FOUND;
      return [Number(String(v)), undefined, hasInit ? false : undefined];
    }, (err) => [undefined, err instanceof RedisCallError && err.oom ? 'no memory' : reason(err), undefined]);
  }

  // ---- lists ----

  lpush(key: SharedDictKey, value: SharedDictListValue): Promise<SharedDictPushResult> {
    return this.#push(key, value, true);
  }

  rpush(key: SharedDictKey, value: SharedDictListValue): Promise<SharedDictPushResult> {
    return this.#push(key, value, false);
  }

  #push(key: unknown, value: unknown, left: boolean): Promise<SharedDictPushResult> {
    const k = toKey(key);
    if (k === '') return Promise.resolve([undefined, keyError(key)]);
    if (typeof value !== 'string' && typeof value !== 'number' && !(value instanceof Uint8Array)) return Promise.resolve(PUSH_BAD_VALUE_TYPE);
    return this.#run(async (now) => {
      const r = await this.#conn.script('pkPush', [this.#h(k), this.#l(k)], [now, left ? '1' : '0', encodeItem(value)]);
      return typeof r === 'number' ? [r, undefined] : NOT_A_LIST;
    }, (err) => (err instanceof RedisCallError && err.oom ? PUSH_NO_MEMORY : [undefined, reason(err)]));
  }

  lpop(key: SharedDictKey): Promise<SharedDictPopResult> {
    return this.#pop(key, true);
  }

  rpop(key: SharedDictKey): Promise<SharedDictPopResult> {
    return this.#pop(key, false);
  }

  #pop(key: unknown, left: boolean): Promise<SharedDictPopResult> {
    const k = toKey(key);
    if (k === '') return Promise.resolve([undefined, keyError(key)]);
    return this.#run(async (now) => {
      const [status, item] = (await this.#conn.script('pkPop', [this.#h(k), this.#l(k)], [now, left ? '1' : '0'])) as Buffer[];
      if (status === undefined) return POP_NIL;
      if (String(status) === 'not a list') return NOT_A_LIST;
      return [decodeItem(item as Buffer), undefined];
    }, (err) => [undefined, reason(err)]);
  }

  llen(key: SharedDictKey): Promise<SharedDictLlenResult> {
    const k = toKey(key);
    if (k === '') return Promise.resolve([undefined, keyError(key)]);
    return this.#run(async (now) => {
      const r = await this.#conn.script('pkLlen', [this.#h(k), this.#l(k)], [now]);
      return typeof r === 'number' ? (r === 0 ? LLEN_ZERO : [r, undefined]) : NOT_A_LIST;
    }, (err) => [undefined, reason(err)]);
  }

  // ---- expiry ----

  ttl(key: SharedDictKey): Promise<SharedDictTtlResult> {
    const k = toKey(key);
    if (k === '') return Promise.resolve([undefined, keyError(key)]);
    return this.#run(async (now) => {
      const e = (await this.#conn.call('hget', this.#h(k), 'e')) as string | null;
      if (e === null) return TTL_NOT_FOUND;
      const ms = Number(e);
      return ms === 0 ? TTL_NEVER : [(ms - now) / 1000, undefined];
    }, (err) => [undefined, reason(err)]);
  }

  expire(key: SharedDictKey, exptime: number): Promise<SharedDictExpireResult> {
    checkExpireTime(exptime);
    const k = toKey(key);
    if (k === '') return Promise.resolve([undefined, keyError(key)]);
    return this.#run(async (now) => {
      const r = String(await this.#conn.script('pkExpire', [this.#h(k), this.#l(k)], [now, Math.trunc(exptime * 1000), this.#grace]));
      return r === 'ok' ? EXPIRE_OK : EXPIRE_NOT_FOUND;
    }, (err) => [undefined, reason(err)]);
  }

  /** Marks every entry expired (get_stale sees them for the grace period). Rejects if Redis fails. */
  async flushAll(): Promise<void> {
    await this.#sweep('flush', 0);
  }

  /** Deletes expired entries, at most `max` (0: all); resolves with how many. Rejects if Redis fails. */
  async flushExpired(max = 0): Promise<number> {
    return (await this.#sweep('expired', toCount(max, 'max'))) as number;
  }

  /** Unexpired keys, at most `max` (default 1024; 0: all), in Redis's SCAN order. Rejects if Redis fails. */
  async getKeys(max = 1024): Promise<string[]> {
    return (await this.#sweep('live', toCount(max, 'max'))) as string[];
  }

  /** Walks the dict's keys with SCAN, running the SWEEP script over each batch. */
  async #sweep(mode: 'flush' | 'expired' | 'live', max: number): Promise<number | string[]> {
    const match = `${this.#prefix.replace(/[*?[\]\\]/g, '\\$&')}h:*`;
    const skip = this.#prefix.length + 2;
    let cursor = '0';
    let n = 0;
    const keys: string[] = [];
    do {
      const [next, batch] = (await this.#conn.call('scan', cursor, 'MATCH', match, 'COUNT', SCAN_COUNT)) as [string, string[]];
      cursor = next;
      if (batch.length === 0) continue;
      const pairs = batch.flatMap((h) => [h, `${this.#prefix}l:${h.slice(skip)}`]);
      const left = max === 0 ? 0 : max - (mode === 'live' ? keys.length : n);
      const r = await this.#conn.script('pkSweep', pairs, [mode, this.#clock.now(), this.#grace, left]);
      if (mode === 'live') {
        for (const i of r as number[]) {
          keys.push((batch[i - 1] as string).slice(skip));
          if (keys.length === max) return keys;
        }
      } else {
        n += r as number;
        if (max !== 0 && n >= max) return n;
      }
    } while (cursor !== '0');
    return mode === 'live' ? keys : n;
  }

  // ---- memory ----

  /** The configured size (Redis's real limit is its maxmemory). */
  async capacity(): Promise<number> {
    return this.#capacity;
  }

  /** maxmemory - used_memory when Redis has a maxmemory, else capacity(). Rejects if Redis fails. */
  async freeSpace(): Promise<number> {
    const info = String(await this.#conn.call('info', 'memory'));
    const used = Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
    const max = Number(/maxmemory:(\d+)/.exec(info)?.[1] ?? 0);
    return max > 0 ? Math.max(0, max - used) : this.#capacity;
  }

  /** Runs `fn` with the clock read once; a Redis failure becomes `onError`'s result. */
  async #run<T>(fn: (now: number) => Promise<T>, onError: (err: unknown) => T): Promise<T> {
    try {
      return await fn(this.#clock.now());
    } catch (err) {
      if (err instanceof PhasekitError) throw err;
      return onError(err);
    }
  }
}
