// Argument checks shared by every store, in lua-resty-core's order and words: what is misuse
// (thrown as BadArgumentError) and what is a runtime failure (returned as `nil, err`).

import { BadArgumentError } from '../errors.js';
import type { SharedDictListValue } from './store.js';

export const MAX_KEY_BYTES = 65535;
/** Below this many UTF-16 units a key cannot exceed 65535 UTF-8 bytes, so its length need not be measured. */
export const SAFE_KEY_UNITS = Math.floor(MAX_KEY_BYTES / 3);

/** UTF-8 length of a string: what the string costs in nginx, which stores Lua strings as bytes. */
export function utf8Length(s: string): number {
  const n = s.length;
  if (n <= 32) {
    for (let i = 0; i < n; i++) if (s.charCodeAt(i) > 0x7f) return Buffer.byteLength(s, 'utf8');
    return n;
  }
  return Buffer.byteLength(s, 'utf8');
}

export function itemBytes(v: SharedDictListValue): number {
  return typeof v === 'string' ? utf8Length(v) : typeof v === 'number' ? 8 : v.byteLength;
}

export function typeName(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

/**
 * The key as a string, or '' when OpenResty answers `nil, err` for it (nil, empty, over 65535
 * bytes; see keyError). Non-string keys are stringified as Lua's tostring would; keys that
 * Lua could not have (objects, functions, symbols) are misuse and throw.
 */
export function toKey(key: unknown): string {
  let s: string;
  if (typeof key === 'string') s = key;
  else if (typeof key === 'number' || typeof key === 'boolean' || typeof key === 'bigint') s = String(key);
  else if (key === undefined || key === null) return '';
  else throw new BadArgumentError(`bad "key" argument: string expected, got ${typeName(key)}`);
  if (s.length > SAFE_KEY_UNITS && Buffer.byteLength(s, 'utf8') > MAX_KEY_BYTES) return '';
  return s;
}

/** The message for a key toKey() turned down. */
export function keyError(key: unknown): string {
  if (key === undefined || key === null) return 'nil key';
  return String(key) === '' ? 'empty key' : 'key too long';
}

/** exptime in seconds → whole milliseconds, truncated like nginx's `(long) (exptime * 1000)`. */
export function exptimeMs(exptime: unknown): number {
  if (exptime === undefined || exptime === null || exptime === false || exptime === 0) return 0;
  if (typeof exptime !== 'number' || !(exptime >= 0) || exptime === Infinity) {
    throw new BadArgumentError(`bad "exptime" argument: expected seconds >= 0, got ${typeof exptime === 'number' ? exptime : typeName(exptime)}`);
  }
  return Math.trunc(exptime * 1000);
}

export function toFlags(flags: unknown): number {
  if (flags === undefined || flags === null || flags === false || flags === 0) return 0;
  if (typeof flags !== 'number' || !Number.isInteger(flags) || flags < 0 || flags > 0xffffffff) {
    throw new BadArgumentError(`bad "flags" argument: expected an unsigned 32-bit integer, got ${typeof flags === 'number' ? flags : typeName(flags)}`);
  }
  return flags;
}

const LUA_NUMBER = /^[-+]?(?:0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)$/;

/** Lua's tonumber() for the arguments OpenResty converts (incr's value, init, init_ttl). */
export function luaToNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v !== 'string') return undefined;
  const s = v.trim();
  if (!LUA_NUMBER.test(s)) return undefined;
  if (s.charAt(0) === '-') return -Number(s.slice(1));
  return Number(s.charAt(0) === '+' ? s.slice(1) : s);
}

/** A `max` argument: truncated like luaL_checkint; 0 or negative means no limit (returns 0). */
export function toCount(max: unknown, name: string): number {
  if (typeof max !== 'number' || Number.isNaN(max)) {
    throw new BadArgumentError(`bad "${name}" argument: number expected, got ${typeName(max)}`);
  }
  const n = Math.trunc(max);
  return n > 0 ? n : 0;
}

// Value types (nginx's SHDICT_T* where there is one).
export const T_BOOL = 1;
export const T_NUM = 3;
export const T_STR = 4;
export const T_LIST = 5;
export const T_BYTES = 6;

/** A value's type for storing: T_*, 0 for nil (a delete), -1 for a type no dict stores. */
export function valueType(value: unknown): number {
  switch (typeof value) {
    case 'string':
      return T_STR;
    case 'number':
      return T_NUM;
    case 'boolean':
      return T_BOOL;
    case 'undefined':
      return 0;
    case 'object':
      return value === null ? 0 : value instanceof Uint8Array ? T_BYTES : -1;
    default:
      return -1;
  }
}

/** incr's arguments after lua-resty-core's checks (written into one reused object). */
export interface IncrArgs {
  step: number;
  hasInit: boolean;
  start: number;
  ttlMs: number;
}

/** Checks incr's value, init and init_ttl as lua-resty-core does; throws BadArgumentError on misuse. */
export function incrArgs(value: unknown, init: unknown, initTtl: unknown, out: IncrArgs): IncrArgs {
  const step = typeof value === 'number' ? value : luaToNumber(value);
  if (step === undefined) throw new BadArgumentError(`bad "value" argument: number expected, got ${typeName(value)}`);
  out.step = step;
  // Lua's `if init then`: nil and false mean no init.
  out.hasInit = false;
  out.start = 0;
  out.ttlMs = 0;
  if (init !== undefined && init !== null && init !== false) {
    const n = luaToNumber(init);
    if (n === undefined) throw new BadArgumentError(`bad init arg: number expected, got ${typeName(init)}`);
    out.hasInit = true;
    out.start = n;
  }
  if (initTtl !== undefined && initTtl !== null) {
    const n = luaToNumber(initTtl);
    if (n === undefined) throw new BadArgumentError(`bad init_ttl arg: number expected, got ${typeName(initTtl)}`);
    if (!(n >= 0) || n === Infinity) throw new BadArgumentError('bad "init_ttl" argument');
    if (!out.hasInit) throw new BadArgumentError('must provide "init" when providing "init_ttl"');
    out.ttlMs = Math.trunc(n * 1000);
  }
  return out;
}

/** expire's exptime: any number but NaN and Infinity (<= 0 removes the expiry). */
export function checkExpireTime(exptime: unknown): number {
  if (typeof exptime !== 'number' || Number.isNaN(exptime) || exptime === Infinity) {
    throw new BadArgumentError(`bad "exptime" argument: expected seconds, got ${typeof exptime === 'number' ? exptime : typeName(exptime)}`);
  }
  return exptime;
}
