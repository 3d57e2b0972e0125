import { describe, it, expect } from 'vitest';
import { parseSize } from './size.js';
import { codeOf } from '../code-of.test-support.js';

describe('parseSize', () => {
  it('reads plain bytes and the k/m/g suffixes in either case', () => {
    expect(parseSize('10')).toBe(10);
    expect(parseSize('0')).toBe(0);
    expect(parseSize('512k')).toBe(512 * 1024);
    expect(parseSize('512K')).toBe(512 * 1024);
    expect(parseSize('1m')).toBe(1048576);
    expect(parseSize('1M')).toBe(1048576);
    expect(parseSize('2g')).toBe(2 * 1024 ** 3);
    expect(parseSize('2G')).toBe(2 * 1024 ** 3);
    expect(parseSize('007k')).toBe(7 * 1024);
  });

  it('passes byte counts through', () => {
    expect(parseSize(1048576)).toBe(1048576);
    expect(parseSize(0)).toBe(0);
  });

  it.each([
    [''],
    ['k'],
    ['1.5m'],
    ['-1'],
    ['+1'],
    [' 1m'],
    ['1m '],
    ['1mb'],
    ['1t'],
    ['1 m'],
    ['0x10'],
    ['99999999999999999999'],
    ['9999999999999g'],
  ])('rejects %j with PHASEKIT_ERR_BAD_ARGUMENT', (input) => {
    expect(codeOf(() => parseSize(input))).toBe('PHASEKIT_ERR_BAD_ARGUMENT');
  });

  it.each([[-1], [1.5], [NaN], [Infinity], [2 ** 53]])('rejects the number %s', (input) => {
    expect(codeOf(() => parseSize(input))).toBe('PHASEKIT_ERR_BAD_ARGUMENT');
  });

  it('rejects values that are neither numbers nor strings', () => {
    expect(codeOf(() => parseSize(null as unknown as string))).toBe('PHASEKIT_ERR_BAD_ARGUMENT');
    expect(codeOf(() => parseSize({} as unknown as string))).toBe('PHASEKIT_ERR_BAD_ARGUMENT');
  });
});
