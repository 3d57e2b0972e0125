// cjson round trips (fast-check): any JSON decodes; what encode writes decodes to the same
// value; after one round the text is stable (numbers are written as %.14g, empty tables as {}).
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NgxInstall } from '../ngx/install.js';
import { createNgxVm } from '../ngx/ngx-vm.test-support.js';
import type { LuaVm } from '../vm/index.js';
import { installCjson } from './cjson.js';

const HOSTILE = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'prototype'];

describe('cjson properties', () => {
  let vm: LuaVm;
  let ctx: NgxInstall;
  beforeAll(async () => {
    ({ vm, ctx } = await createNgxVm([installCjson]));
  });
  afterAll(() => vm.close());

  /** encode(decode(text)), or the decode error. */
  const round = (text: string): string => {
    const [ok, out] = vm.run('local preload, text = ... local cjson = preload.cjson() return pcall(function() return cjson.encode(cjson.decode(text)) end)', 'prop', ctx.preload, text) as [boolean, string];
    if (!ok) throw new Error(`cjson failed on ${text}: ${out}`);
    return out;
  };

  const key = fc.oneof(fc.constantFrom(...HOSTILE), fc.string({ maxLength: 8 }));
  // Values lua-cjson keeps exactly: integers it prints whole, strings, booleans, null, non-empty containers.
  const exact = fc.letrec((tie) => ({
    value: fc.oneof({ depthSize: 'small' }, fc.integer({ min: -1e13, max: 1e13 }), fc.string({ unit: 'grapheme' }), fc.boolean(), fc.constant(null), tie('array'), tie('object')),
    array: fc.array(tie('value'), { minLength: 1, maxLength: 4 }),
    object: fc.dictionary(key, tie('value'), { minKeys: 1, maxKeys: 4 }),
  }));

  it('decode(encode(v)) keeps integers, strings, booleans, null, non-empty arrays and objects, hostile keys included', () => {
    fc.assert(fc.property(exact.value, (v) => {
      expect(JSON.parse(round(JSON.stringify(v)))).toEqual(v);
    }), { numRuns: 200 });
  });

  it('any JSON decodes, and the text is stable after one round', () => {
    fc.assert(fc.property(fc.json({ maxDepth: 3 }), (text) => {
      const once = round(text);
      expect(JSON.parse(round(once))).toEqual(JSON.parse(once));
    }), { numRuns: 200 });
  });
});
