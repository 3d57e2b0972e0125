// Byte strings: what a Lua string is on the JS side — text when its bytes are valid UTF-8, else the bytes.

/** A Lua string as JS holds it: a JS string when the bytes are valid UTF-8, else the bytes themselves. */
export type ByteString = string | Uint8Array;

const decoder = new TextDecoder('utf-8', { fatal: true });

/** The bytes of `s` (a JS string is UTF-8 encoded). */
export function toBytes(s: ByteString): Uint8Array {
  return typeof s === 'string' ? Buffer.from(s, 'utf8') : s;
}

/** `bytes` as a ByteString: a JS string when they are valid UTF-8, else a copy of the bytes. */
export function fromBytes(bytes: Uint8Array): ByteString {
  let ascii = true;
  for (let i = 0; i < bytes.length; i++) {
    if ((bytes[i] as number) > 0x7f) {
      ascii = false;
      break;
    }
  }
  if (ascii) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  try {
    return decoder.decode(bytes);
  } catch {
    return Uint8Array.from(bytes);
  }
}

/** A ByteString as text for TypeScript callers: invalid UTF-8 sequences become U+FFFD. */
export function asText(s: ByteString): string {
  return typeof s === 'string' ? s : Buffer.from(s.buffer, s.byteOffset, s.byteLength).toString('utf8');
}
