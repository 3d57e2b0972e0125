// Parity of the text layer: each function of core's text/ run from TypeScript and from Lua (ngx.*)
// over one byte corpus must give the same bytes. Number formatting compares with Lua's own %.14g.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeArgPairs, escapeUri, formatNumber, parseArgs, toBytes, unescapeUri, type ByteString } from '@phasekit/core';
import type { LuaValue, LuaVm } from '../vm/index.js';
import type { NgxInstall } from './install.js';
import { createNgxVm } from './ngx-vm.test-support.js';
import { installString } from './string.js';

/** A deterministic corpus: edge strings, every byte, and pseudo-random query-like byte strings. */
function corpus(): Uint8Array[] {
  const out: Uint8Array[] = ['', 'a', '%', '%4', '%zz', '%E9', '+', 'a=1&&b=2&', '=x&a&b=', "it's (1)*~!", 'é ü', '&&&'].map((s) => toBytes(s));
  out.push(Uint8Array.from({ length: 256 }, (_, i) => i));
  let seed = 0x2545f491;
  const next = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 16);
  const alphabet = toBytes('ab=&%+ 0123456789ABCDEFxyz\u00e9\u0000\u007f');
  for (let n = 0; n < 300; n++) {
    const len = next() % 24;
    out.push(Uint8Array.from({ length: len }, () => (next() % 5 === 0 ? next() & 0xff : (alphabet[next() % alphabet.length] as number))));
  }
  return out;
}

const bytes = (v: LuaValue | ByteString | undefined): number[] => (v === null || v === undefined ? [] : [...toBytes(v as ByteString)]);

describe('text layer parity (TypeScript and Lua, byte for byte)', () => {
  let vm: LuaVm;
  let ctx: NgxInstall;
  const cases = corpus();

  beforeAll(async () => {
    ({ vm, ctx } = await createNgxVm([installString]));
  });
  afterAll(() => vm.close());

  it('escape_uri, every type', () => {
    for (let type = 0; type <= 6; type++) {
      for (const s of cases) {
        const [lua] = vm.run('local ngx, s, t = ... return ngx.escape_uri(s, t)', 'parity', ctx.ngx, s, type);
        expect(bytes(lua)).toEqual(bytes(escapeUri(s, type)));
      }
    }
  });

  it('unescape_uri', () => {
    for (const s of cases) {
      const [lua] = vm.run('local ngx, s = ... return ngx.unescape_uri(s)', 'parity', ctx.ngx, s);
      expect(bytes(lua)).toEqual(bytes(unescapeUri(s)));
    }
  });

  it('decode_args (separators) with several max values', () => {
    for (const max of [0, 1, 2, 100]) {
      for (const s of cases) {
        const [flat, truncated] = vm.run(
          'local ngx, s, max = ... local t, err = ngx.decode_args(s, max) local keys = {} for k in pairs(t) do keys[#keys + 1] = k end table.sort(keys) ' +
            'local out = {} for _, k in ipairs(keys) do local v = t[k] if type(v) ~= "table" then v = { v } end for _, x in ipairs(v) do out[#out + 1] = k .. "\\0" .. tostring(x) end end ' +
            'return table.concat(out, "\\1"), err',
          'parity', ctx.ngx, s, max,
        );
        const ts = parseArgs(s, max, 'separators');
        const grouped = new Map<string, string[]>();
        for (const [k, v] of ts.pairs) {
          const key = Buffer.from(toBytes(k)).toString('latin1');
          grouped.set(key, [...(grouped.get(key) ?? []), v === true ? 'true' : Buffer.from(toBytes(v)).toString('latin1')]);
        }
        const expected = [...grouped.keys()].sort().flatMap((k) => (grouped.get(k) as string[]).map((v) => `${k}\0${v}`)).join('\u0001');
        expect(Buffer.from(toBytes(flat as ByteString)).toString('latin1')).toBe(expected);
        expect(truncated === 'truncated').toBe(ts.truncated);
      }
    }
  });

  it('encode_args of one key and value', () => {
    for (const s of cases) {
      const [lua] = vm.run('local ngx, s = ... return ngx.encode_args({ k = s })', 'parity', ctx.ngx, s);
      expect(bytes(lua)).toEqual(bytes(encodeArgPairs([['k', s]])));
    }
  });

  it('number formatting is Lua’s %.14g', () => {
    const numbers = [0, 99999999999999, -1e14, -0.5, 1.5, 1 / 3, 2 / 3, 1e14, 123456789012345.6, 1e15, 1e-5, 1.25e-4, 12345.678901234567, -1e300, 5e-324, 0.1 + 0.2, 100, 1e21];
    for (const n of numbers) {
      const [lua] = vm.run('local n = ... return string.format("%.14g", n)', 'parity', n);
      expect(formatNumber(n)).toBe(lua);
    }
  });
});
