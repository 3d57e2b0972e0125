// Response headers: case-insensitive names, multi-values, and OpenResty's `ngx.header.x_y` spelling.

import { BadArgumentError } from './errors.js';
import type { HeaderValue } from './ngx.js';

interface Entry {
  name: string;
  value: HeaderValue;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// eslint-disable-next-line no-control-regex
const UNSAFE_VALUE = /[\r\n\0]/;

/** `content_type` → `content-type` (OpenResty turns underscores into dashes). */
export function headerKey(name: string): string {
  return name.indexOf('_') === -1 ? name.toLowerCase() : name.replace(/_/g, '-').toLowerCase();
}

export function checkHeaderName(name: string): void {
  if (!TOKEN.test(name)) throw new BadArgumentError(`invalid header name "${name}"`);
}

export function checkHeaderValue(name: string, value: string): void {
  if (UNSAFE_VALUE.test(value)) {
    throw new BadArgumentError(`invalid value for header "${name}": CR, LF and NUL are not allowed`);
  }
}

export class ResponseHeaders {
  readonly #entries = new Map<string, Entry>();

  get(name: string): HeaderValue | undefined {
    return this.#entries.get(headerKey(name))?.value;
  }

  has(name: string): boolean {
    return this.#entries.has(headerKey(name));
  }

  /** Sets (replaces) a header; null/undefined/empty array clears it. Values are checked. */
  set(name: string, value: HeaderValue | number | readonly (string | number)[] | null | undefined): void {
    const key = headerKey(name);
    if (value === null || value === undefined || (Array.isArray(value) && value.length === 0)) {
      this.#entries.delete(key);
      return;
    }
    const wire = name.indexOf('_') === -1 ? name : name.replace(/_/g, '-');
    checkHeaderName(wire);
    let stored: HeaderValue;
    if (Array.isArray(value)) {
      stored = value.map((v) => String(v));
      for (const v of stored) checkHeaderValue(wire, v);
    } else {
      stored = String(value);
      checkHeaderValue(wire, stored);
    }
    const existing = this.#entries.get(key);
    if (existing !== undefined) existing.value = stored;
    else this.#entries.set(key, { name: wire, value: stored });
  }

  delete(name: string): void {
    this.#entries.delete(headerKey(name));
  }

  clear(): void {
    this.#entries.clear();
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Lower-cased names (or the names as set, with `raw`), up to `max` headers (0 = all). */
  toRecord(max = 100, raw = false): Record<string, HeaderValue> {
    const out: Record<string, HeaderValue> = {};
    let n = 0;
    for (const [key, e] of this.#entries) {
      if (max > 0 && n++ >= max) break;
      out[raw ? e.name : key] = Array.isArray(e.value) ? [...e.value] : e.value;
    }
    return out;
  }

  /** The object Node's `writeHead` takes. */
  toOutgoing(): Record<string, HeaderValue> {
    const out: Record<string, HeaderValue> = {};
    for (const e of this.#entries.values()) out[e.name] = e.value;
    return out;
  }
}
