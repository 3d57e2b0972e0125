import { describe, expect, it } from 'vitest';
import { LocationTable, normalizeUri, parseMatch, type ParsedMatch } from './location.js';

function table(...matches: string[]): LocationTable<string> {
  const t = new LocationTable<string>();
  for (const m of matches) t.add(parseMatch(m) as ParsedMatch, m);
  return t;
}

describe('location selection (nginx rules)', () => {
  const t = table('/', '/a', '/a/b', '= /a', '^~ /static/', '~ \\.php$', '~* \\.JPG$', '~ ^/a/b/c', '@fallback');

  it('exact match wins over everything', () => {
    expect(t.find('/a')?.location).toBe('= /a');
  });
  it('longest prefix when no regex matches', () => {
    expect(t.find('/a/bx')?.location).toBe('/a/b');
    expect(t.find('/ax')?.location).toBe('/a');
    expect(t.find('/zzz')?.location).toBe('/');
  });
  it('^~ prefix stops the regex search', () => {
    expect(t.find('/static/x.php')?.location).toBe('^~ /static/');
  });
  it('regexes beat the longest prefix, first declared wins', () => {
    expect(t.find('/a/b/x.php')?.location).toBe('~ \\.php$');
    expect(t.find('/a/b/c.php')?.location).toBe('~ \\.php$');
    expect(t.find('/a/b/c')?.location).toBe('~ ^/a/b/c');
  });
  it('~* is case-insensitive, ~ is not', () => {
    expect(t.find('/img/x.jpg')?.location).toBe('~* \\.JPG$');
    expect(t.find('/x.PHP')?.location).toBe('/');
  });
  it('named locations are only found by name', () => {
    expect(t.find('/fallback')?.location).toBe('/');
    expect(t.find('@fallback')).toBeUndefined();
    expect(t.named('fallback')).toBe('@fallback');
  });
  it('nothing matches without a covering prefix', () => {
    expect(table('/api').find('/other')).toBeUndefined();
  });
  it('regex captures are returned', () => {
    const r = table('~ ^/u/(?<user>\\w+)/(\\d+)$').find('/u/bob/42');
    expect(r?.captures?.[2]).toBe('42');
    expect(r?.captures?.groups?.user).toBe('bob');
  });
  it('a longer ^~ prefix beats a shorter plain one and vice versa', () => {
    const t2 = table('/img/', '^~ /img/big/', '~ \\.png$');
    expect(t2.find('/img/big/a.png')?.location).toBe('^~ /img/big/');
    expect(t2.find('/img/a.png')?.location).toBe('~ \\.png$');
  });
});

describe('parseMatch', () => {
  it('accepts modifiers with or without a space', () => {
    expect(parseMatch('=/x')).toMatchObject({ kind: 'exact', value: '/x' });
    expect(parseMatch('^~ /x')).toMatchObject({ kind: 'prefixStop', value: '/x' });
    expect(parseMatch('~* a')).toMatchObject({ kind: 'regex' });
  });
  it('rejects bad input with a message', () => {
    expect(parseMatch('x')).toBeTypeOf('string');
    expect(parseMatch('~ (')).toMatch(/bad regex/);
    expect(parseMatch('@')).toBeTypeOf('string');
    expect(parseMatch('')).toBeTypeOf('string');
  });
});

describe('normalizeUri', () => {
  it('merges slashes, resolves dots, decodes', () => {
    expect(normalizeUri('/a//b')).toBe('/a/b');
    expect(normalizeUri('/a/./b')).toBe('/a/b');
    expect(normalizeUri('/a/../b')).toBe('/b');
    expect(normalizeUri('/%61bc')).toBe('/abc');
    expect(normalizeUri('/a/b/..')).toBe('/a/');
    expect(normalizeUri('/caf%C3%A9')).toBe('/café');
  });
  it('refuses to climb above the root', () => {
    expect(normalizeUri('/../x')).toBeUndefined();
  });
  it('returns plain paths untouched', () => {
    expect(normalizeUri('/plain/path')).toBe('/plain/path');
  });
});
