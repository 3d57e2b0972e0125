import { describe, expect, it } from 'vitest';
import { decodeArgs, encodeArgs, escapeUri, rawArg, unescapeUri } from './args.js';

describe('decodeArgs', () => {
  it('repeated keys become arrays, bare keys true, empty values ""', () => {
    expect(decodeArgs('a=1&a=2&b&c=')[0]).toEqual({ a: ['1', '2'], b: true, c: '' });
  });
  it('unescapes keys and values, + is a space', () => {
    expect(decodeArgs('x%20y=a+b%21')[0]).toEqual({ 'x y': 'a b!' });
  });
  it('stops at max and says so', () => {
    const [args, truncated] = decodeArgs('a=1&b=2&c=3', 2);
    expect(args).toEqual({ a: '1', b: '2' });
    expect(truncated).toBe(true);
    expect(decodeArgs('a=1&b=2', 0)[1]).toBe(false);
  });
  it('skips empty pieces and empty keys', () => {
    expect(decodeArgs('&&a=1&=x&')[0]).toEqual({ a: '1' });
  });
});

describe('encodeArgs / escapes / $arg_', () => {
  it('encodes arrays, true and false', () => {
    expect(encodeArgs({ a: [1, 2], b: true, c: false, 'd e': 'x&y' })).toBe('a=1&a=2&b&d%20e=x%26y');
  });
  it('escape/unescape round-trip', () => {
    const s = "a b/c?d=é!'()*";
    expect(unescapeUri(escapeUri(s))).toBe(s);
    expect(unescapeUri('%zz')).toBe('%zz');
  });
  it('rawArg returns the first raw value, case-insensitively', () => {
    expect(rawArg('A=1%202&a=3', 'a')).toBe('1%202');
    expect(rawArg('b&c=', 'b')).toBe('');
    expect(rawArg('c=1', 'b')).toBeUndefined();
  });
});
