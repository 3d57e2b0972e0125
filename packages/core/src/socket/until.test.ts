// receiveuntil's matcher against lua-nginx-module's answers (recorded on nginx 1.22 + lua 0.10.23).
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ByteReader } from './reader.js';
import { UntilMatcher } from './until.js';

/** Feeds `parts` one by one and collects each complete result (the iterator's answers). */
function run(pattern: string, parts: string[], options: { inclusive?: boolean; size?: number } = {}) {
  const stream = new PassThrough();
  const reader = new ByteReader(stream);
  const m = new UntilMatcher(Buffer.from(pattern), options.inclusive === true);
  const out: string[] = [];
  const max = options.size ?? Infinity;
  for (const p of parts) {
    stream.write(p);
    for (;;) {
      const r = m.scan(reader, max);
      if (r === 'more') break;
      out.push(m.takeUpTo(max).toString());
      if (r === 'match' && options.size !== undefined) out.push('<end>');
    }
  }
  m.dropHeld();
  return { out, rest: m.takeOut().toString() };
}

describe('receiveuntil matcher', () => {
  it('finds a boundary split across packets, and keeps a partial boundary back', () => {
    // nginx: "--ab|c--x|yz--abc--|--ab--" with "--abc--" → "", "xyz", then closed with partial "--ab"
    const { out, rest } = run('--abc--', ['--ab', 'c--x', 'yz--abc--', '--ab--']);
    expect(out).toEqual(['', 'xyz']);
    expect(rest).toBe('--ab');
  });

  it('overlapping prefixes fall back as nginx does', () => {
    expect(run('aab', ['aaab|aab|aaaab'])).toEqual({ out: ['a', '|', '|aa'], rest: '' });
    expect(run('ababc', ['ab', 'ab', 'abc', 'ababcab'])).toEqual({ out: ['ab', ''], rest: '' });
  });

  it('inclusive results end with the boundary', () => {
    expect(run('--END--', ['hello world--END--tail--END--more'], { inclusive: true })).toEqual({ out: ['hello world--END--', 'tail--END--'], rest: 'more' });
  });

  it('with a size, hands out at most that many bytes, then an end marker at the boundary', () => {
    expect(run('--B--', ['0123456789--B--x'], { size: 4 })).toEqual({ out: ['0123', '4567', '89', '<end>'], rest: 'x' });
    expect(run('--B--', ['01234567--B--'], { size: 4 }).out).toEqual(['0123', '4567', '', '<end>']);
  });

  it('a one-byte boundary, and bytes that only start like the boundary', () => {
    expect(run('\n', ['a\nb', 'c\n']).out).toEqual(['a', 'bc']);
    expect(run('\r\n', ['a\rb\r', '\nc']).out).toEqual(['a\rb']);
  });
});
