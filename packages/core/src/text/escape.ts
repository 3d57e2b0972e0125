// nginx's URI escaping (ngx_escape_uri, types 0..6) and lua-nginx-module's unescaping, byte-exact.

import { fromBytes, toBytes, type ByteString } from './bytes.js';

/**
 * Which bytes ngx.escape_uri escapes for each type 0..6 (nginx's ngx_escape_uri tables as lua-nginx-module
 * 0.10.23 ships them, read off a real nginx): one bit per byte, byte 0 is the top bit of the first nibble.
 */
const ESCAPE_BITMAPS = [
  'ffffffff940000010000000000000001ffffffffffffffffffffffffffffffff', // 0 URI
  'ffffffff941000010000000000000001ffffffffffffffffffffffffffffffff', // 1 ARGS
  'ffffffffbe19003f8000001e8000001dffffffffffffffffffffffffffffffff', // 2 URI_COMPONENT
  'ffffffffb50000000000000000000001ffffffffffffffffffffffffffffffff', // 3 HTML
  'ffffffffa10000000000000000000001ffffffffffffffffffffffffffffffff', // 4 REFRESH
  'ffffffff84000000000000000000000000000000000000000000000000000000', // 5 MEMCACHED
  'ffffffff84000000000000000000000000000000000000000000000000000000', // 6 MAIL_AUTH
];

/** Escape types, as ngx.escape_uri's second argument. */
export const ESCAPE_URI = 0;
export const ESCAPE_ARGS = 1;
export const ESCAPE_URI_COMPONENT = 2;

const TABLES: readonly Uint8Array[] = ESCAPE_BITMAPS.map((hex) => {
  const t = new Uint8Array(256);
  for (let i = 0; i < 256; i++) t[i] = (parseInt(hex[i >> 2] as string, 16) >> (3 - (i & 3))) & 1;
  return t;
});

const HEX = new Uint8Array([...'0123456789ABCDEF'].map((c) => c.charCodeAt(0)));

/** ngx.escape_uri: bytes of table `type` (default 2, URI component) become %XX (upper-case hex). */
export function escapeUri(input: ByteString, type = ESCAPE_URI_COMPONENT): ByteString {
  const table = TABLES[type];
  if (table === undefined) throw new RangeError(`"type" ${type} out of range`);
  const bytes = toBytes(input);
  let escapes = 0;
  for (let i = 0; i < bytes.length; i++) escapes += table[bytes[i] as number] as number;
  if (escapes === 0) return input;
  const out = new Uint8Array(bytes.length + 2 * escapes);
  let n = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] as number;
    if (table[b] === 0) {
      out[n++] = b;
    } else {
      out[n++] = 0x25;
      out[n++] = HEX[b >> 4] as number;
      out[n++] = HEX[b & 15] as number;
    }
  }
  return fromBytes(out);
}

/** ngx.unescape_uri: %XX decoded, `+` as a space; a `%` not followed by two hex digits stays as it is. */
export function unescapeUri(input: ByteString): ByteString {
  if (typeof input === 'string' && input.indexOf('%') === -1 && input.indexOf('+') === -1) return input;
  const bytes = toBytes(input);
  const out = new Uint8Array(bytes.length);
  let n = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] as number;
    if (b === 0x2b) {
      out[n++] = 0x20;
    } else if (b === 0x25 && i + 2 < bytes.length && isHex(bytes[i + 1]) && isHex(bytes[i + 2])) {
      out[n++] = (hexValue(bytes[i + 1] as number) << 4) | hexValue(bytes[i + 2] as number);
      i += 2;
    } else {
      out[n++] = b;
    }
  }
  return fromBytes(out.subarray(0, n));
}

function isHex(b: number | undefined): boolean {
  return b !== undefined && ((b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66));
}

function hexValue(b: number): number {
  return b <= 0x39 ? b - 0x30 : (b | 0x20) - 0x57;
}
