import { describe, expect, it } from 'vitest';
import { argsRecord, decodeArgs, encodeArgPairs, encodeArgs, parseArgs, rawArg } from './args.js';
import { escapeUri, unescapeUri } from './escape.js';

// Expectations observed on nginx 1.22 + lua-nginx-module 0.10.23.
const keys = (q: string, max: number, count: 'entries' | 'separators') => {
  const r = parseArgs(q, max, count);
  return [r.pairs.map(([k, v]) => `${String(k)}=${String(v)}`).join(','), r.truncated];
};

describe('parseArgs: the two ways OpenResty counts max', () => {
  it('entries (get_uri_args): the first max arguments with a key; truncated once there are max "&"', () => {
    expect(keys('a=1&b=2', 2, 'entries')).toEqual(['a=1,b=2', false]);
    expect(keys('a=1&b=2&', 2, 'entries')).toEqual(['a=1,b=2', true]);
    expect(keys('&&&a=1', 2, 'entries')).toEqual(['a=1', true]);
    expect(keys('=x&a=1&b=2&c=3', 2, 'entries')).toEqual(['a=1,b=2', true]);
    expect(keys('a=1&&b=2&c=3', 0, 'entries')).toEqual(['a=1,b=2,c=3', false]);
  });
  it('separators (decode_args): every part counts, empty ones and empty keys too', () => {
    expect(keys('a=1&b=2', 2, 'separators')).toEqual(['a=1,b=2', false]);
    expect(keys('a=1&b=2&', 2, 'separators')).toEqual(['a=1,b=2', true]);
    expect(keys('&&&a=1', 2, 'separators')).toEqual(['', true]);
    expect(keys('=x&a=1&b=2&c=3', 2, 'separators')).toEqual(['a=1', true]);
    expect(keys('a=1&&b=2&c=3', 2, 'separators')).toEqual(['a=1', true]);
  });
  it('bare keys are true, repeated keys become arrays, keys and values are unescaped', () => {
    expect(argsRecord(parseArgs('a&b=&a=2&a%20x=%41+z', 0, 'entries').pairs)).toEqual({ a: [true, '2'], b: '', 'a x': 'A z' });
    expect(decodeArgs('x%20y=a+b%21')[0]).toEqual({ 'x y': 'a b!' });
  });
  it('bytes that are not UTF-8 stay bytes (%E9 is the byte E9)', () => {
    const [[, value]] = parseArgs('a=%E9', 0, 'entries').pairs as [[unknown, Uint8Array]];
    expect([...value]).toEqual([0xe9]);
  });
});

describe('escapes: nginx tables, byte-exact', () => {
  it('escape_uri type 2 (default) and type 0', () => {
    expect(escapeUri("a b+c/d?e=f&g'h(i)*~!")).toBe("a%20b%2Bc%2Fd%3Fe%3Df%26g'h(i)*~!");
    expect(escapeUri("a b+c/d?e=f&g'h", 0)).toBe("a%20b+c/d%3Fe=f&g'h");
    expect(escapeUri('é')).toBe('%C3%A9');
    expect(() => escapeUri('x', 7)).toThrow(RangeError);
  });
  it('unescape_uri: + is a space, a bad escape stays, %E9% is two bytes', () => {
    expect(unescapeUri('a+b%20c%zz%4')).toBe('a b c%zz%4');
    expect([...(unescapeUri('%E9%') as Uint8Array)]).toEqual([0xe9, 0x25]);
  });
  it('encode_args and set_uri_args share one escaper', () => {
    expect(encodeArgs({ a: "it's (1)*" })).toBe("a=it's%20(1)*");
    expect(encodeArgs({ a: [1, 2.5], b: true, c: false, 'd e': 'x&y' })).toBe('a=1&a=2.5&b&d%20e=x%26y');
    expect([...(encodeArgPairs([['k', new Uint8Array([0xe9])]]) as string)].join('')).toBe('k=%E9');
  });
  it('rawArg returns the first raw value, case-insensitively', () => {
    expect(rawArg('A=1%202&a=3', 'a')).toBe('1%202');
    expect(rawArg('b&c=', 'b')).toBeUndefined(); // no "=": no value (nginx)
    expect(rawArg('b&c=', 'c')).toBe('');
    expect(rawArg('c=1', 'b')).toBeUndefined();
  });
});
