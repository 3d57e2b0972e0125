import { describe, expect, it } from 'vitest';
import { joinChunks, pushPrintable } from './format.js';
import { formatNumber } from './number.js';
import type { Chunk } from '../ngx/types.js';

describe('formatNumber (Lua %.14g)', () => {
  it('integers bare, floats with 14 digits', () => {
    expect(formatNumber(10534)).toBe('10534');
    expect(formatNumber(1.5)).toBe('1.5');
    expect(formatNumber(1 / 3)).toBe('0.33333333333333');
    expect(formatNumber(1e20)).toBe('1e+20');
    expect(formatNumber(1e-5)).toBe('1e-05');
    expect(formatNumber(Infinity)).toBe('inf');
  });
});

describe('pushPrintable', () => {
  it('flattens nested arrays, prints nil/null/booleans as OpenResty', () => {
    const out: Chunk[] = [];
    pushPrintable(out, [['a', ['b', 1]], true, null, undefined], 'print');
    expect(joinChunks(out)).toBe('ab1truenullnil');
  });
  it('rejects objects with a bad-argument error', () => {
    expect(() => pushPrintable([], [{} as never], 'say')).toThrow(expect.objectContaining({ code: 'PHASEKIT_ERR_BAD_ARGUMENT' }));
  });
  it('joins binary chunks into one buffer', () => {
    const joined = joinChunks(['a', new Uint8Array([0, 255])]);
    expect(Buffer.from(joined as Uint8Array)).toEqual(Buffer.from([97, 0, 255]));
  });
});
