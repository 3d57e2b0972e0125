// Query strings as OpenResty reads and writes them, byte-exact: ngx.req.get_uri_args / get_post_args,
// ngx.decode_args, ngx.encode_args / set_uri_args, and $arg_NAME.

import { asText, type ByteString } from './bytes.js';
import { escapeUri, unescapeUri } from './escape.js';
import { formatNumber } from './number.js';

export type ArgValue = string | true;
export type Args = Record<string, ArgValue | ArgValue[]>;
/** What encodeArgs accepts: true means a bare key, false drops it, arrays repeat the key. */
export type ArgsInput = Record<string, string | number | boolean | readonly (string | number | boolean)[]>;

/**
 * How `max` counts. `entries` (get_uri_args, get_post_args): the first `max` arguments with a
 * key. `separators` (ngx.decode_args): every `&`-separated part counts, empty ones too. Either
 * way the result is truncated when the query holds `max` or more `&`.
 */
export type ArgsCount = 'entries' | 'separators';

export interface ParsedArgs {
  /** Keys and values in query order, unescaped (`true` for a key without `=`). */
  readonly pairs: (readonly [ByteString, ByteString | true])[];
  readonly truncated: boolean;
}

/** Parses a query string (or a form body) as OpenResty does; `max` 0 means no limit. */
export function parseArgs(query: ByteString, max: number, count: ArgsCount): ParsedArgs {
  const text = typeof query === 'string' ? query : Buffer.from(query.buffer, query.byteOffset, query.byteLength).toString('latin1');
  const pairs: (readonly [ByteString, ByteString | true])[] = [];
  if (text === '') return { pairs, truncated: false };
  // get_uri_args counts the '&' first (lua-nginx-module's *_args_count), then takes up to max.
  const truncated = count === 'entries' && max > 0 && countAmps(text) >= max;
  let separators = 0;
  let start = 0;
  for (;;) {
    const amp = text.indexOf('&', start);
    const end = amp === -1 ? text.length : amp;
    if (end > start) {
      const eq = text.indexOf('=', start);
      const keyEnd = eq === -1 || eq > end ? end : eq;
      if (keyEnd > start) {
        const key = unescapeUri(slice(query, text, start, keyEnd));
        const value = keyEnd === end ? true : unescapeUri(slice(query, text, keyEnd + 1, end));
        pairs.push([key, value]);
        if (count === 'entries' && max > 0 && pairs.length === max) return { pairs, truncated };
      }
    }
    if (amp === -1) return { pairs, truncated };
    separators++;
    if (count === 'separators' && max > 0 && separators === max) return { pairs, truncated: true };
    start = amp + 1;
  }
}

/** Builds a query string (ngx.encode_args, ngx.req.set_uri_args): keys and values escaped as URI components. */
export function encodeArgPairs(pairs: Iterable<readonly [ByteString, ByteString | boolean]>): ByteString {
  const parts: ByteString[] = [];
  let binary = false;
  for (const [key, value] of pairs) {
    if (value === false) continue;
    const k = escapeUri(key);
    const part = value === true ? k : join([k, '=', escapeUri(value)]);
    if (typeof part !== 'string') binary = true;
    parts.push(part);
  }
  if (!binary) return (parts as string[]).join('&');
  const out: ByteString[] = [];
  parts.forEach((p, i) => out.push(...(i === 0 ? [p] : ['&', p])));
  return join(out);
}

/** encodeArgPairs over a record: numbers as Lua prints them, arrays as repeated keys. */
export function encodeArgs(args: ArgsInput): string {
  const pairs: [string, string | boolean][] = [];
  for (const key of Object.keys(args)) {
    const v = args[key];
    for (const item of Array.isArray(v) ? v : [v]) pairs.push([key, typeof item === 'number' ? formatNumber(item) : (item as string | boolean)]);
  }
  return asText(encodeArgPairs(pairs));
}

/** ngx.decode_args for TypeScript: a record of text values, and whether `max` cut it short. */
export function decodeArgs(query: string, max = 100): [Args, boolean] {
  const parsed = parseArgs(query, max, 'separators');
  return [argsRecord(parsed.pairs), parsed.truncated];
}

/** Parsed pairs as a record (repeated keys collected in arrays); bytes that are not UTF-8 become U+FFFD. */
export function argsRecord(pairs: ParsedArgs['pairs']): Args {
  const out: Args = Object.create(null) as Args;
  for (const [k, v] of pairs) {
    const key = asText(k);
    const value: ArgValue = v === true ? true : asText(v);
    const prev = out[key];
    if (prev === undefined) out[key] = value;
    else if (Array.isArray(prev)) prev.push(value);
    else out[key] = [prev, value];
  }
  return out;
}

/** $arg_NAME: the raw (still escaped) value of the first `name=` in the query, or undefined. */
export function rawArg(query: string, name: string): string | undefined {
  let start = 0;
  const len = query.length;
  while (start < len) {
    let end = query.indexOf('&', start);
    if (end === -1) end = len;
    const eq = query.indexOf('=', start);
    const keyEnd = eq === -1 || eq > end ? end : eq;
    // "?a" (no "=") is no value: nginx's $arg_a is not found
    if (keyEnd - start === name.length && keyEnd < end && query.slice(start, keyEnd).toLowerCase() === name) return query.slice(keyEnd + 1, end);
    start = end + 1;
  }
  return undefined;
}

function countAmps(text: string): number {
  let n = 0;
  for (let i = text.indexOf('&'); i !== -1; i = text.indexOf('&', i + 1)) n++;
  return n;
}

function slice(query: ByteString, text: string, from: number, to: number): ByteString {
  return typeof query === 'string' ? text.slice(from, to) : query.subarray(from, to);
}

function join(parts: readonly ByteString[]): ByteString {
  if (parts.every((p) => typeof p === 'string')) return (parts as string[]).join('');
  return Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : p)));
}
