// The committed pcre2.wasm and its binding: the build it claims to be, the limits, the batches,
// and memory that does not grow with the number of patterns compiled.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LuaVm } from '../../vm/index.js';
import type { NgxInstall } from '../install.js';
import { createNgxVm } from '../ngx-vm.test-support.js';
import { installRe, type ReInstallation } from './install.js';
import { PCRE2_VERSION, PCRE2_WASM_PATH, Pcre2, type Pcre2Regex } from './pcre2.js';

const bytes = (s: string) => Buffer.from(s, 'latin1');

function compile(engine: Pcre2, pattern: string, options = 0): Pcre2Regex {
  const r = engine.compile(bytes(pattern), options);
  if ('code' in r) throw new Error(`compile ${pattern}: ${r.code}`);
  return r;
}

describe('pcre2.wasm', () => {
  it('is the committed build: its SHA-256 is the one build.sh wrote, it imports nothing, it reports PCRE2 10.42', () => {
    const wasm = readFileSync(PCRE2_WASM_PATH);
    const recorded = readFileSync(new URL('pcre2.wasm.sha256', `file://${PCRE2_WASM_PATH}`), 'utf8').trim();
    expect(createHash('sha256').update(wasm).digest('hex')).toBe(recorded);
    const wasmApi = (globalThis as unknown as { WebAssembly: { Module: { new (b: Uint8Array): object; imports(m: object): unknown[] } } }).WebAssembly;
    expect(wasmApi.Module.imports(new wasmApi.Module(wasm))).toEqual([]);
    expect(new Pcre2().version()).toBe(PCRE2_VERSION);
  });

  it('ships PCRE2\'s licence beside the binary', () => {
    expect(readFileSync(new URL('LICENCE', `file://${PCRE2_WASM_PATH}`), 'utf8')).toMatch(/^PCRE2 LICENCE/);
  });
});

describe('Pcre2', () => {
  const engine = new Pcre2();
  const limits = (matchLimit: number, stepsPerByte = 16) => engine.setLimits({ matchLimit, heapLimitKib: 8 * 1024, stepsPerByte });

  it('returns byte offsets; unset groups are -1', () => {
    limits(0);
    const r = engine.compile(Buffer.from('(a)(x)?(é)'), 0); // UTF-8 bytes, no "u": é is two bytes
    if ('code' in r) throw new Error('compile');
    const re = r;
    engine.setSubject(Buffer.from('zaé'));
    expect(engine.exec(re, 0, 0, false)).toBe(4);
    expect([...engine.offsets(re)]).toEqual([1, 4, 1, 2, -1, -1, 2, 4]);
    expect(engine.exec(re, 2, 0, false)).toBe(-1);
    engine.free(re);
  });

  it('stops the issue\'s ReDoS at the match limit: PCRE2_ERROR_MATCHLIMIT', () => {
    limits(100_000);
    const re = compile(engine, String.raw`^(\w+\s?)*$`);
    engine.setSubject(bytes(`${'a'.repeat(34)}!`));
    expect(engine.exec(re, 0, 0, false)).toBe(-47);
    engine.free(re);
  });

  it('bounds the whole search, not only one start position (\\s+$ over 20,000 spaces)', () => {
    limits(100_000);
    const re = compile(engine, String.raw`\s+$`);
    engine.setSubject(bytes(`${' '.repeat(20_000)}x`));
    expect(engine.exec(re, 0, 0, false)).toBe(-47);
    const { spent, budget } = engine.lastSearchCost();
    expect(budget).toBe(32 * (100_000 + 16 * 20_001));
    expect(spent).toBeLessThanOrEqual(budget + 32 * 100_000);
    // without the whole-search bound, PCRE2 alone would run every start position to the end
    limits(100_000, 0);
    engine.setSubject(bytes(`${' '.repeat(3000)}x`));
    expect(engine.exec(re, 0, 0, false)).toBe(-1);
    engine.free(re);
  });

  it('counts the characters a repeat scans ([a-z]*[a-z]*=x: each step scans the rest)', () => {
    limits(1_000_000);
    const re = compile(engine, '[a-z]*[a-z]*=x');
    engine.setSubject(bytes(`${'a'.repeat(3000)}=yx`));
    expect(engine.exec(re, 0, 0, false)).toBe(-47);
    engine.free(re);
  });

  it('leaves ordinary scans alone: a 1 MB subject searched to the end', () => {
    limits(1000);
    const re = compile(engine, String.raw`(\w+)@(\w+)\.com`);
    const subject = Array.from({ length: 150_000 }, (_, i) => `word${i % 97}`).join(' ');
    engine.setSubject(bytes(`${subject} me@example.com`));
    expect(engine.exec(re, 0, 0, false)).toBe(3);
    engine.free(re);
  });

  it('DFA mode: the longest match first, its cost bounded too', () => {
    limits(1000);
    const re = compile(engine, 'he|hel|hello');
    engine.setSubject(bytes('hello'));
    expect(engine.exec(re, 0, 0, true)).toBe(1);
    expect([...engine.offsets(re)].slice(0, 2)).toEqual([0, 5]);
    const slow = compile(engine, 'a*[^a]');
    engine.setSubject(bytes('a'.repeat(20_000)));
    expect(engine.exec(slow, 0, 0, true)).toBe(-47);
    engine.free(re);
    engine.free(slow);
  });

  it('execAll steps as lua-resty-core: one byte past an empty match, and stops at the end', () => {
    limits(0);
    const re = compile(engine, 'x*');
    engine.setSubject(bytes('ab'));
    const b = engine.execAll(re, 0, 0, false, 10);
    expect(b.count).toBe(3);
    expect(b.status).toBe(1);
    expect([...b.results]).toEqual([1, 0, 0, 1, 1, 1, 1, 2, 2]); // rc, from, to per match
    const partial = engine.execAll(re, 0, 0, false, 2);
    expect([partial.count, partial.status, partial.next]).toEqual([2, 0, 2]);
    engine.free(re);
  });

  it('keeps backtracking memory bounded: a deep search fails at the heap limit, patterns hold no frames', () => {
    const fresh = new Pcre2();
    fresh.setLimits({ matchLimit: 0, heapLimitKib: 8 * 1024, stepsPerByte: 16 });
    const start = fresh.stats().memoryBytes;
    for (let i = 0; i < 2000; i++) {
      const re = compile(fresh, `(a)${i}`);
      fresh.setSubject(bytes(`a${i}`));
      expect(fresh.exec(re, 0, 0, false)).toBe(2);
      if (i % 2 === 0) fresh.free(re); // the others stay compiled, as in a cache
    }
    expect(fresh.stats().memoryBytes - start).toBeLessThan(2 * 1024 * 1024);
    const deep = compile(fresh, '^(a|b)*$');
    fresh.setSubject(bytes('a'.repeat(1_000_000)));
    expect(fresh.exec(deep, 0, 0, false)).toBe(-63);
    expect(fresh.stats().memoryBytes).toBeLessThan(3 * 8 * 1024 * 1024 + 4 * 1024 * 1024);
  });

  it('reports compile errors with PCRE2 codes and offsets', () => {
    expect(engine.compile(bytes('a)'), 0)).toEqual({ code: 122, offset: 1 });
    expect(engine.errorMessage(122)).toBe('unmatched closing parenthesis');
  });
});

describe('ngx.re memory', () => {
  let vm: LuaVm;
  let ctx: NgxInstall;
  let re: ReInstallation;

  beforeAll(async () => {
    ({ vm, ctx } = await createNgxVm([]));
    re = installRe(ctx, { cacheMaxEntries: 64 });
  });
  afterAll(() => vm.close());

  const run = (src: string) => vm.run(`local ngx = ... ${src}`, 'test', ctx.ngx);

  it('frees patterns the caches drop: 30,000 distinct patterns, with and without "o", in bounded memory', () => {
    const round = (from: number) =>
      run(`local n = 0 for i = ${from}, ${from} + 4999 do
        if ngx.re.find("k" .. i, "k" .. i .. "(x)?", "o") then n = n + 1 end
        if ngx.re.find("k" .. i, "(?:k)" .. i) then n = n + 1 end
      end return n`)[0];
    expect(round(0)).toBe(10_000);
    const after = re.regexes.engine.stats().memoryBytes;
    for (const from of [5000, 10_000]) expect(round(from)).toBe(10_000);
    expect(re.regexes.engine.stats().memoryBytes).toBe(after);
    expect(re.regexes.engine.stats().compiled).toBe(re.regexes.cached);
    expect(re.regexes.cached).toBeLessThanOrEqual(64 + 16);
  });
});
