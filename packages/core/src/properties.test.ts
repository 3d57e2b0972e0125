// Property-based tests (fast-check) of the parsers that take outside input: query strings and
// form bodies, response header names and values on the wire, URI normalisation and location
// matching, and the config schema. Each property holds for every generated input.
import { validateHeaderName, validateHeaderValue } from 'node:http';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseConfig } from './engine/config.js';
import { ConfigError } from './errors.js';
import { ResponseHeaders, wireHeaderName, wireHeaderValue } from './http/headers.js';
import { LocationTable, normalizeUri, parseMatch } from './http/location.js';
import { argsRecord, encodeArgPairs, parseArgs } from './text/args.js';
import { asText } from './text/bytes.js';

/** Strings as Node hands them over from the wire (one character per byte), and any strings. */
const latin1 = fc.string({ unit: fc.integer({ min: 0, max: 0xff }).map((c) => String.fromCharCode(c)) });
const anyText = fc.oneof(latin1, fc.string({ unit: 'binary' }));
const HOSTILE = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'prototype'];
const key = fc.oneof(fc.constantFrom(...HOSTILE), fc.string({ minLength: 1, unit: 'binary' }));

describe('query strings and form bodies (parseArgs, encodeArgPairs)', () => {
  it('never throw, and respect max', () => {
    fc.assert(fc.property(fc.oneof(anyText, fc.uint8Array()), fc.nat(20), fc.constantFrom('entries', 'separators'), (query, max, count) => {
      const parsed = parseArgs(query, max, count as 'entries' | 'separators');
      if (max > 0) expect(parsed.pairs.length).toBeLessThanOrEqual(max);
      for (const [k] of parsed.pairs) expect(k.length).toBeGreaterThan(0);
    }));
  });

  it('encode then parse gives the pairs back, hostile keys included', () => {
    const pairs = fc.array(fc.tuple(key, fc.oneof(fc.string({ unit: 'binary' }), fc.constant(true as const))), { maxLength: 12 });
    fc.assert(fc.property(pairs, (given) => {
      const parsed = parseArgs(encodeArgPairs(given), 0, 'entries');
      expect(parsed.pairs.map(([k, v]) => [asText(k), v === true ? true : asText(v)])).toEqual(given);
    }));
  });

  it('a record of args has no prototype: every key reads as what was sent', () => {
    fc.assert(fc.property(fc.array(fc.tuple(key, fc.string()), { maxLength: 8 }), (given) => {
      const record = argsRecord(given);
      expect(Object.getPrototypeOf(record)).toBe(null);
      for (const [k] of given) {
        const values = given.filter(([g]) => g === k).map(([, v]) => v);
        expect(record[k]).toEqual(values.length === 1 ? values[0] : values);
      }
    }));
  });
});

describe('response headers on the wire', () => {
  it('any name and value a handler gives goes out as a valid header line (no CR/LF, no injection)', () => {
    fc.assert(fc.property(fc.array(fc.tuple(key, fc.oneof(anyText, fc.array(anyText, { minLength: 1, maxLength: 3 }), fc.integer())), { maxLength: 6 }), (given) => {
      const headers = new ResponseHeaders();
      for (const [name, value] of given) headers.set(name, value);
      for (const [name, value] of Object.entries(headers.toOutgoing())) {
        expect(() => validateHeaderName(name)).not.toThrow();
        for (const v of Array.isArray(value) ? value : [value]) expect(() => validateHeaderValue(name, v)).not.toThrow();
      }
    }));
  });

  it('wireHeaderName is an HTTP token, wireHeaderValue has no control bytes but tab', () => {
    fc.assert(fc.property(fc.string({ minLength: 1, unit: 'binary' }), anyText, (name, value) => {
      expect(wireHeaderName(name)).toMatch(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/);
      // eslint-disable-next-line no-control-regex
      expect(wireHeaderValue(value)).not.toMatch(/[\x00-\x08\x0a-\x1f\x7f]/);
    }));
  });

  it('a name beyond the BMP is escaped as its UTF-8 bytes (it used to throw URIError: a 500)', () => {
    expect(wireHeaderName('x-😀')).toBe('x-%F0%9F%98%80');
    expect(wireHeaderName('日')).toBe('%E6%97%A5');
    expect(wireHeaderName('\ud800')).toBe('%EF%BF%BD');
  });

  it('reads are case-insensitive and "_" reads as "-"', () => {
    fc.assert(fc.property(fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,10}$/), fc.stringMatching(/^[ -~]{1,20}$/), (name, value) => {
      const headers = new ResponseHeaders();
      headers.set(name, value);
      expect(headers.get(name.toUpperCase())).toBe(wireHeaderValue(value));
      expect(headers.get(name.replace(/-/g, '_').toLowerCase())).toBe(wireHeaderValue(value));
    }));
  });
});

describe('URI normalisation', () => {
  it('never throws; a result starts with "/", has no empty, "." or ".." segment but a trailing one', () => {
    fc.assert(fc.property(fc.oneof(latin1, latin1.map((s) => `/${s}`), fc.stringMatching(/^(\/(\.|\.\.|%2[eE]|%2[fF]|a|b|%41|)){0,8}$/)), (path) => {
      const out = normalizeUri(path);
      if (out === undefined) return;
      expect(out.startsWith('/')).toBe(true);
      const segments = out.split('/').slice(1, -1);
      for (const seg of segments) expect(['', '.', '..']).not.toContain(seg);
      expect(out.endsWith('/.') || out.endsWith('/..')).toBe(false);
    }));
  });

  it('resolves "//", "./" and "x/.." the way a path join does', () => {
    const segment = fc.stringMatching(/^[a-z0-9]{1,4}$/);
    fc.assert(fc.property(fc.array(segment, { maxLength: 6 }), fc.array(fc.constantFrom('/', './', 'zz/../'), { maxLength: 6 }), fc.boolean(), (segments, noise, slash) => {
      const clean = `/${segments.join('/')}${slash && segments.length > 0 ? '/' : ''}`;
      let noisy = '/';
      segments.forEach((s, i) => {
        noisy += (noise[i] ?? '') + s + (i < segments.length - 1 || (slash && segments.length > 0) ? '/' : '');
      });
      expect(normalizeUri(noisy)).toBe(clean);
    }));
  });
});

describe('location matching', () => {
  const path = fc.stringMatching(/^\/[ab/]{0,5}$/);
  it('exact wins, then the longest prefix (^~ stops), as a naive model of nginx\'s rule', () => {
    const table = fc.uniqueArray(fc.tuple(fc.constantFrom('=', '^~', ''), path), { maxLength: 8, selector: ([kind, p]) => `${kind === '=' ? '=' : '/'}${p}` });
    fc.assert(fc.property(table, path, (entries, uri) => {
      const locations = new LocationTable<number>();
      entries.forEach(([kind, p], i) => locations.add(parseMatch(`${kind} ${p}`.trim()) as Exclude<ReturnType<typeof parseMatch>, string>, i));
      const exact = entries.findIndex(([kind, p]) => kind === '=' && p === uri);
      const prefixes = entries.map((e, i) => [e, i] as const).filter(([[kind, p]]) => kind !== '=' && uri.startsWith(p));
      const longest = prefixes.sort((a, b) => b[0][1].length - a[0][1].length)[0];
      const expected = exact !== -1 ? exact : longest?.[1];
      expect(locations.find(uri)?.location).toBe(expected);
    }));
  });
});

describe('the config schema', () => {
  const VOCAB = ['locations', 'sharedDicts', 'match', 'content', 'lua', 'luaFile', 'vars', 'set', 'var', 'upstreams', 'servers', 'lua', 'maxRunMs', 'shutdownTimeout', 'size', 'store', 'proxyPass', ...HOSTILE];
  const configish = fc.letrec((tie) => ({
    value: fc.oneof({ depthSize: 'small' }, fc.jsonValue({ maxDepth: 2 }), tie('object'), fc.array(tie('value'), { maxLength: 3 })),
    object: fc.dictionary(fc.oneof(fc.constantFrom(...VOCAB), fc.string()), tie('value'), { maxKeys: 5 }),
  }));

  it('random JSON, and random objects made of config words, either parse or throw a ConfigError with a path', () => {
    fc.assert(fc.property(fc.oneof(fc.jsonValue(), configish.object, configish.object.map((o) => ({ locations: [o] })), fc.string().map((s) => JSON.parse(`{"sharedDicts":{"__proto__":${JSON.stringify(s)}},"locations":[]}`) as unknown)), (input) => {
      try {
        parseConfig(input);
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        expect((err as ConfigError).code).toBe('PHASEKIT_ERR_CONFIG');
        expect((err as ConfigError).issues.length).toBeGreaterThan(0);
      }
    }));
  });
});
