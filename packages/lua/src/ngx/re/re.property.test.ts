// Properties of the regex layer over generated patterns and subjects (fast-check): every search
// ends within its budget with a match, no match or the match-limit error; offsets stay inside
// the subject; gsub/find/match/gmatch agree with each other.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LuaVm } from '../../vm/index.js';
import type { NgxInstall } from '../install.js';
import { createNgxVm } from '../ngx-vm.test-support.js';
import { installRe } from './install.js';
import { Pcre2 } from './pcre2.js';

/** Patterns over a small alphabet, with the constructs that backtrack: nesting, alternation, quantifiers, references. */
const pattern: fc.Arbitrary<string> = fc.letrec<{ re: string; atom: string; piece: string; seq: string }>((tie) => ({
  atom: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom('a', 'b', ' ', '.', '\\w', '\\s', '\\d', '[ab]', '[^a]', '\\b', '^', '$', '\\1', 'é', '\\x{e9}'),
    tie('re').map((r) => `(${r})`),
    tie('re').map((r) => `(?:${r})`),
    tie('re').map((r) => `(?=${r})`),
    tie('re').map((r) => `(?>${r})`),
  ),
  piece: fc.tuple(tie('atom'), fc.constantFrom('', '', '*', '+', '?', '{1,3}', '*?', '+?', '++', '{2,}')).map(([a, q]) => a + q),
  seq: fc.array(tie('piece'), { minLength: 1, maxLength: 4 }).map((ps) => ps.join('')),
  re: fc.array(tie('seq'), { minLength: 1, maxLength: 3 }).map((ss) => ss.join('|')),
})).re;

const subject = fc.oneof(
  fc.stringMatching(/^[ab 1é]{0,40}$/),
  fc.tuple(fc.constantFrom('a', 'ab', ' ', 'a '), fc.integer({ min: 1, max: 300 }), fc.constantFrom('', '!', 'b', ' x')).map(([u, n, end]) => u.repeat(n) + end),
);
const options = fc.constantFrom('', 'i', 'u', 's', 'm', 'x', 'd', 'D', 'J', 'a');

/** PCRE2 results a search may end with: a match (rc > 0), no match, the match limit, the heap limit. */
const ALLOWED_RC = new Set([-1, -47, -63]);
/** In DFA mode also the workspace running out (PCRE2_ERROR_DFA_WSSIZE), as nginx's DFA can fail. */
const ALLOWED_DFA_RC = new Set([...ALLOWED_RC, -43]);

describe('PCRE2 engine properties', () => {
  const engine = new Pcre2();
  const LIMIT = 20_000;
  engine.setLimits({ matchLimit: LIMIT, heapLimitKib: 8 * 1024, stepsPerByte: 16 });

  it('any pattern it compiles, on any subject: a match, no match or the limit, within budget, offsets inside the subject', () => {
    fc.assert(
      fc.property(pattern, subject, fc.boolean(), (p, s, dfa) => {
        const re = engine.compile(Buffer.from(p), 0);
        if ('code' in re) return;
        const bytes = Buffer.from(s);
        engine.setSubject(bytes);
        try {
          const rc = engine.exec(re, 0, 0, dfa);
          expect(rc > 0 || (dfa ? ALLOWED_DFA_RC : ALLOWED_RC).has(rc), `rc ${rc}`).toBe(true);
          const { spent, budget } = engine.lastSearchCost();
          expect(budget).toBe(32 * (LIMIT + 16 * bytes.length));
          // one start position may take its whole match limit past the budget before it is checked
          expect(spent).toBeLessThanOrEqual(budget + 32 * LIMIT + 32);
          if (rc > 0) {
            const o = engine.offsets(re);
            for (let g = 0; g < (dfa ? 1 : re.captures + 1); g++) {
              const [from, to] = [o[2 * g] as number, o[2 * g + 1] as number];
              if (g > 0 && from === -1) continue;
              expect(0 <= from && from <= to && to <= bytes.length).toBe(true);
            }
          }
        } finally {
          engine.free(re);
        }
      }),
      { numRuns: 400 },
    );
  });
});

describe('ngx.re properties', () => {
  let vm: LuaVm;
  let ctx: NgxInstall;
  beforeAll(async () => {
    ({ vm, ctx } = await createNgxVm([]));
    installRe(ctx, { matchLimit: 20_000 });
  });
  afterAll(() => vm.close());

  const lua = (src: string, ...args: unknown[]) => vm.run(`local ngx = ... ${src}`, 'prop', ctx.ngx, ...(args as string[]));
  const LIMIT_ERROR = 'pcre_exec() failed: -8';
  /** Error messages are bytes: a compile error cut at 127 bytes may end inside a UTF-8 character. */
  const raw = (v: unknown) => (v instanceof Uint8Array ? Buffer.from(v) : Buffer.from(String(v)));
  const text = (v: unknown) => raw(v).toString('latin1');
  const ERROR = /^(pcre_compile\(\) failed: |pcre_exec\(\) failed: -(8|10|11|19|27)$)/;

  it('gsub with an empty replacement never grows the subject; with "$0" it gives the subject back', () => {
    fc.assert(
      fc.property(pattern, subject, options, (p, s, o) => {
        const [emptied, n, err, same, n2] = lua(
          `local s, p, o = select(2, ...)
           local a, n, err = ngx.re.gsub(s, p, "", o)
           local b, n2 = ngx.re.gsub(s, p, "$0", o)
           return a, n, err, b, n2`, s, p, o,
        );
        if (emptied === null) {
          expect(text(err)).toMatch(ERROR);
          return;
        }
        expect(raw(emptied).length).toBeLessThanOrEqual(Buffer.byteLength(s));
        if (same !== null) {
          expect(text(same)).toBe(text(s));
          expect(n2).toBe(n);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('find and match agree, and gmatch yields the matches gsub counts', () => {
    fc.assert(
      fc.property(pattern, subject, options, (p, s, o) => {
        const [from, to, m0, ferr, merr, count, gcount, gerr] = lua(
          `local s, p, o = select(2, ...)
           local from, to, ferr = ngx.re.find(s, p, o)
           local m, merr = ngx.re.match(s, p, o)
           local _, count = ngx.re.gsub(s, p, "", o)
           local it, gerr = ngx.re.gmatch(s, p, o)
           local g = 0
           if it then while true do local x, e = it() if not x then gerr = e break end g = g + 1 end end
           return from, to, m and m[0], ferr, merr, count, g, gerr`, s, p, o,
        );
        if (ferr !== null || merr !== null || gerr !== null) {
          for (const e of [ferr, merr, gerr]) if (e !== null) expect(text(e)).toMatch(ERROR);
          return;
        }
        if (from === null) expect(m0).toBe(null);
        else {
          expect(1 <= (from as number) && (from as number) <= (to as number) + 1 && (to as number) <= Buffer.byteLength(s)).toBe(true);
          expect(raw(m0).length).toBe((to as number) - (from as number) + 1);
        }
        if (count !== null) expect(gcount).toBe(count);
      }),
      { numRuns: 300 },
    );
  });

  it('the issue\'s ReDoS input returns the limit error from every API', () => {
    const [m, merr, f, , ferr, g, , gerr] = lua(
      `local s, p = string.rep("a", 34) .. "!", [[^(\\w+\\s?)*$]]
       local m, merr = ngx.re.match(s, p, "jo")
       local f, t, ferr = ngx.re.find(s, p, "jo")
       local g, n, gerr = ngx.re.gsub(s, p, "x", "jo")
       return m, merr, f, t, ferr, g, n, gerr`,
    );
    expect([m, merr, f, ferr, g, gerr]).toEqual([null, LIMIT_ERROR, null, LIMIT_ERROR, null, LIMIT_ERROR]);
  });
});
