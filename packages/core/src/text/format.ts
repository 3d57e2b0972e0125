// How ngx.say/print/log turn values into bytes, as OpenResty does with Lua values.

import { BadArgumentError } from '../errors.js';
import type { Chunk, Printable } from '../ngx/types.js';
import { formatNumber } from './number.js';

/**
 * Appends `values` to `out` as chunks. `fn` names the API for error messages
 * (`bad argument #1 to 'say' (...)`).
 */
export function pushPrintable(out: Chunk[], values: readonly Printable[], fn: string, argIndex = 0): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    switch (typeof v) {
      case 'string':
        out.push(v);
        break;
      case 'number':
        out.push(formatNumber(v));
        break;
      case 'boolean':
        out.push(v ? 'true' : 'false');
        break;
      case 'undefined':
        out.push('nil');
        break;
      case 'object':
        if (v === null) out.push('null');
        else if (v instanceof Uint8Array) out.push(v);
        else if (Array.isArray(v)) pushPrintable(out, v as readonly Printable[], fn, argIndex || i + 1);
        else throw new BadArgumentError(`bad argument #${argIndex || i + 1} to '${fn}' (non-array table found)`);
        break;
      default:
        throw new BadArgumentError(`bad argument #${argIndex || i + 1} to '${fn}' (string, number, boolean, nil, ngx.null, or array table expected, got ${typeof v})`);
    }
  }
}

/** Concatenates chunks: one string when all are text, else one Buffer. */
export function joinChunks(chunks: readonly Chunk[]): Chunk {
  if (chunks.length === 1) return chunks[0] as Chunk;
  let binary = false;
  for (const c of chunks) if (typeof c !== 'string') binary = true;
  if (!binary) return (chunks as string[]).join('');
  return Buffer.concat(chunks.map((c) => (typeof c === 'string' ? Buffer.from(c) : c)));
}

export function chunkLength(c: Chunk): number {
  return typeof c === 'string' ? Buffer.byteLength(c) : c.byteLength;
}
