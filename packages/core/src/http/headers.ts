// Response headers: case-insensitive names, multi-values, and OpenResty's `ngx.header.x_y` spelling.

import { formatNumber } from '../text/number.js';
import type { HeaderValue } from '../ngx/types.js';

interface Entry {
  name: string;
  value: HeaderValue;
}

// Bytes OpenResty %XX-escapes (uppercase hex) instead of sending: control characters in
// values; anything outside an HTTP token in names. So no value can inject a header.
// eslint-disable-next-line no-control-regex
const VALUE_ESCAPE = /[\x00-\x08\x0a-\x1f\x7f]/g;
// eslint-disable-next-line no-control-regex
const VALUE_UNSAFE = /[\x00-\x08\x0a-\x1f\x7f]/;
// Per code point ("u"): a character beyond the BMP is escaped as its UTF-8 bytes, not as two halves.
const NAME_ESCAPE = /[^!#$%&'*+\-.^_`|~0-9A-Za-z]/gu;
const NAME_UNSAFE = /[^!#$%&'*+\-.^_`|~0-9A-Za-z]/;
const hex = (c: string) => '%' + c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0');

/** headerKey's answers for the names handlers use over and over (bounded: names may come from requests). */
const KEYS = new Map<string, string>();

/** `content_type` → `content-type` (OpenResty turns underscores into dashes). */
export function headerKey(name: string): string {
  let key = KEYS.get(name);
  if (key !== undefined) return key;
  key = name.indexOf('_') === -1 ? name.toLowerCase() : name.replace(/_/g, '-').toLowerCase();
  if (KEYS.size < 2048) KEYS.set(name, key);
  return key;
}

/** A header name as it goes on the wire: `_` → `-`, other non-token bytes %XX-escaped. */
export function wireHeaderName(name: string): string {
  const dashed = name.indexOf('_') === -1 ? name : name.replace(/_/g, '-');
  if (!NAME_UNSAFE.test(dashed)) return dashed;
  return dashed.replace(NAME_ESCAPE, (c) => (c.charCodeAt(0) > 0xff ? utf8Escape(c) : hex(c)));
}

/** `%XX` for each UTF-8 byte of `c` (a lone surrogate is U+FFFD's bytes; encodeURIComponent would throw). */
function utf8Escape(c: string): string {
  let out = '';
  for (const b of Buffer.from(c, 'utf8')) out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
  return out;
}

/** A header value as it goes on the wire: CR, LF and other control bytes %XX-escaped. */
export function wireHeaderValue(value: string): string {
  return VALUE_UNSAFE.test(value) ? value.replace(VALUE_ESCAPE, hex) : value;
}

/** Lua-style string form of a header value: numbers as Lua prints them, booleans as words. */
function valueString(v: unknown): string {
  return wireHeaderValue(typeof v === 'string' ? v : typeof v === 'number' ? formatNumber(v) : String(v));
}

// eslint-disable-next-line no-control-regex
const NON_ASCII = /[^\x00-\x7f]/;
/** Anything but tab and printable ASCII (such a value may need escaping or make the headers wide). */
const NOT_PLAIN = /[^\t\x20-\x7e]/;

const WIRE_NAMES = new Map<string, string>();

/** wireHeaderName, remembered for the names seen (bounded). */
export function wireName(name: string): string {
  let wire = WIRE_NAMES.get(name);
  if (wire !== undefined) return wire;
  wire = wireHeaderName(name);
  if (WIRE_NAMES.size < 2048) WIRE_NAMES.set(name, wire);
  return wire;
}

/** A header value as HTTP/1 carries it: its UTF-8 bytes, one per character (Node refuses wider ones). */
function utf8Bytes(value: string): string {
  return NON_ASCII.test(value) ? Buffer.from(value, 'utf8').toString('latin1') : value;
}

export class ResponseHeaders {
  readonly #entries = new Map<string, Entry>();
  /** Names cleared on purpose (a cleared Content-Type is not defaulted again). */
  #cleared: Set<string> | undefined;
  /**
   * A value is not ASCII: it goes out as its UTF-8 bytes, and the body must then be written
   * as bytes too (Node encodes the headers and a string body together, in the body's encoding).
   */
  wide = false;

  get(name: string): HeaderValue | undefined {
    return this.#entries.get(headerKey(name))?.value;
  }

  has(name: string): boolean {
    return this.#entries.has(headerKey(name));
  }

  /** Sets (replaces) a header; null/undefined/empty array clears it. Values are checked. */
  set(name: string, value: HeaderValue | number | boolean | readonly (string | number)[] | null | undefined): void {
    const key = headerKey(name);
    // OpenResty drops a header set to nil, "", {} or a table without an array part.
    if (value === null || value === undefined || value === '' || (Array.isArray(value) && value.length === 0)) {
      this.#entries.delete(key);
      (this.#cleared ??= new Set()).add(key);
      return;
    }
    if (typeof value === 'object' && !Array.isArray(value)) return;
    let stored: HeaderValue;
    // The common case, a printable ASCII string, in one test: nothing to escape, not wide.
    if (typeof value === 'string' && !NOT_PLAIN.test(value)) stored = value;
    else {
      stored = Array.isArray(value) ? value.map(valueString) : valueString(value);
      if (!this.wide && (typeof stored === 'string' ? NON_ASCII.test(stored) : stored.some((v) => NON_ASCII.test(v)))) this.wide = true;
    }
    const existing = this.#entries.get(key);
    if (existing !== undefined) existing.value = stored;
    else this.#entries.set(key, { name: wireName(name), value: stored });
  }

  /** Sets a header the engine itself produces (known-good name and value, no checks). */
  setOwn(key: string, name: string, value: string): void {
    const existing = this.#entries.get(key);
    if (existing !== undefined) existing.value = value;
    else this.#entries.set(key, { name, value });
  }

  /** A handler clears the header (remembered: a cleared Content-Type is not defaulted, a cleared Content-Length means chunked). */
  delete(name: string): void {
    this.set(name, undefined);
  }

  /** The engine removes a header (not a handler's decision, so not remembered as cleared). */
  drop(name: string): void {
    this.#entries.delete(headerKey(name));
  }

  /** True when the header was cleared on purpose and not set again. */
  wasCleared(name: string): boolean {
    return this.#cleared?.has(headerKey(name)) === true && !this.#entries.has(headerKey(name));
  }

  clear(): void {
    this.#entries.clear();
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Lower-cased names (or the names as set, with `raw`), up to `max` headers (0 = all). */
  toRecord(max = 100, raw = false): Record<string, HeaderValue> {
    const out = Object.create(null) as Record<string, HeaderValue>;
    let n = 0;
    for (const [key, e] of this.#entries) {
      if (max > 0 && n++ >= max) break;
      out[raw ? e.name : key] = Array.isArray(e.value) ? [...e.value] : e.value;
    }
    return out;
  }

  /** The object Node's `writeHead` takes; non-ASCII values go as their UTF-8 bytes, as nginx sends a Lua string's bytes. */
  toOutgoing(): Record<string, HeaderValue> {
    const out = Object.create(null) as Record<string, HeaderValue>;
    for (const e of this.#entries.values()) {
      const v = e.value;
      out[e.name] = !this.wide ? v : typeof v === 'string' ? utf8Bytes(v) : v.map(utf8Bytes);
    }
    return out;
  }
}
