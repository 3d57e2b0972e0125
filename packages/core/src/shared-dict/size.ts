// nginx's size syntax ("512k", "1m", "10"), as lua_shared_dict reads it, turned into bytes.

import { BadArgumentError } from '../errors.js';

const SCALE: Readonly<Record<string, number>> = { k: 1024, K: 1024, m: 1024 ** 2, M: 1024 ** 2, g: 1024 ** 3, G: 1024 ** 3 };

/**
 * Bytes for a size written the nginx way: digits with an optional `k`/`K`, `m`/`M` or `g`/`G`
 * suffix (powers of 1024), or a number of bytes already. Anything else (signs, spaces, decimals,
 * other units, sizes past `Number.MAX_SAFE_INTEGER`) throws BadArgumentError.
 */
export function parseSize(size: number | string): number {
  if (typeof size === 'number') {
    if (Number.isSafeInteger(size) && size >= 0) return size;
    throw new BadArgumentError(`invalid size ${String(size)}: expected a non-negative integer number of bytes`);
  }
  if (typeof size !== 'string') {
    throw new BadArgumentError(`invalid size: expected a number or a string such as "1m", got ${typeof size}`);
  }
  const m = /^(\d+)([kKmMgG]?)$/.exec(size);
  const bytes = m ? Number(m[1]) * (m[2] ? (SCALE[m[2]] ?? 1) : 1) : NaN;
  if (!Number.isSafeInteger(bytes)) {
    throw new BadArgumentError(`invalid size "${size}": expected digits with an optional k, m or g suffix, as in "512k" or "1m"`);
  }
  return bytes;
}
