// cjson / cjson.safe against lua-cjson as observed under nginx 1.22 + lua-nginx-module 0.10.23 (and the
// openresty/lua-cjson fork's additions: empty_array, array_mt, empty_array_mt, encode_empty_table_as_object).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NgxInstall } from '../ngx/install.js';
import { createNgxVm, LUA_DUMP } from '../ngx/ngx-vm.test-support.js';
import type { LuaVm } from '../vm/index.js';
import { installCjson } from './cjson.js';

const PRELUDE = String.raw`
local preload, ngx = ...
local cjson = preload.cjson()
local safe = preload["cjson.safe"]()
${LUA_DUMP}`;

describe('cjson', () => {
  let vm: LuaVm;
  let ctx: NgxInstall;
  // a fresh VM per test: the configuration functions change module state
  beforeEach(async () => {
    ({ vm, ctx } = await createNgxVm([installCjson]));
  });
  afterEach(() => vm.close());
  const run = (src: string) => vm.run(PRELUDE + src, 'test', ctx.preload, ctx.ngx);
  const enc = (lua: string) => run(`return pcall(cjson.encode, ${lua})`);
  const dec = (json: string) => run(`return pcall(cjson.decode, ${JSON.stringify(json)})`);

  describe('encode', () => {
    it('escapes strings like lua-cjson, "/" included, bytes >= 0x80 raw', () => {
      expect(run(String.raw`return cjson.encode("a/b\"c\\d\0\1\31\127é\n\t\r\b\f")`)).toEqual([
        String.raw`"a\/b\"c\\d\u0000\u0001\u001f\u007fé\n\t\r\b\f"`,
      ]);
    });

    it('formats floats with %.14g and integers as integers', () => {
      expect(enc('{1, 1.5, -0.0, 1e300, 2^53, 2^63, 0.1, 1/3, 1e-7, 3.14159265358979, 2.0}')).toEqual([
        true,
        '[1,1.5,-0,1e+300,9.007199254741e+15,9.2233720368548e+18,0.1,0.33333333333333,1e-07,3.1415926535898,2]',
      ]);
      expect(run('return cjson.encode(123456789012), cjson.encode(-2147483648), cjson.encode(math.maxinteger)')).toEqual([
        '123456789012',
        '-2147483648',
        '9223372036854775807',
      ]);
    });

    it('raises for NaN and infinity', () => {
      expect(enc('1/0')).toEqual([false, 'Cannot serialise number: must not be NaN or Infinity']);
      expect(enc('0/0')).toEqual([false, 'Cannot serialise number: must not be NaN or Infinity']);
      expect(enc('{-1/0}')).toEqual([false, 'Cannot serialise number: must not be NaN or Infinity']);
    });

    it('encodes booleans, nil and null', () => {
      expect(run('return cjson.encode({true, false}), cjson.encode(nil), cjson.encode(cjson.null), cjson.encode(ngx.null)')).toEqual([
        '[true,false]',
        'null',
        'null',
        'null',
      ]);
    });

    it('encodes an empty table as {} by default, [] after encode_empty_table_as_object(false)', () => {
      expect(run('return cjson.encode({}), cjson.encode({a = {b = {c = {}}}})')).toEqual(['{}', '{"a":{"b":{"c":{}}}}']);
      expect(run('cjson.encode_empty_table_as_object(false) return cjson.encode({}), cjson.encode({a = {}})')).toEqual(['[]', '{"a":[]}']);
      expect(run('cjson.encode_empty_table_as_object("off") local a = cjson.encode({}) cjson.encode_empty_table_as_object("on") return a, cjson.encode({})')).toEqual([
        '[]',
        '{}',
      ]);
    });

    it('cjson.empty_array, array_mt and empty_array_mt', () => {
      expect(run('return cjson.encode({a = cjson.empty_array}), type(cjson.empty_array)')).toEqual(['{"a":[]}', 'userdata']);
      expect(run('local t = {1, 2, nil, 4, foo = "bar"} setmetatable(t, cjson.array_mt) return cjson.encode(setmetatable({"hello", "world"}, cjson.array_mt)), cjson.encode(setmetatable({}, cjson.array_mt))')).toEqual([
        '["hello","world"]',
        '[]',
      ]);
      expect(run('local t = {} t[1] = "one" t[2] = "two" t[4] = "three" t.foo = "bar" setmetatable(t, cjson.array_mt) return #t == 4 and cjson.encode(t) or "len"')).toEqual([
        '["one","two",null,"three"]',
      ]);
      expect(run('return cjson.encode({a = setmetatable({}, cjson.empty_array_mt)}), cjson.encode(setmetatable({1, 2}, cjson.empty_array_mt))')).toEqual([
        '{"a":[]}',
        '[1,2]',
      ]);
    });

    it('encodes holes as null up to the sparse limit, then raises', () => {
      expect(enc('{[1] = 1, [2] = 2, [4] = 4}')).toEqual([true, '[1,2,null,4]']);
      expect(enc('{[10] = 1}')).toEqual([true, '[null,null,null,null,null,null,null,null,null,1]']);
      expect(enc('{[1] = 1, [20] = 2}')).toEqual([false, 'Cannot serialise table: excessively sparse array']);
      expect(enc('{[11] = 1}')).toEqual([false, 'Cannot serialise table: excessively sparse array']);
      expect(run('cjson.encode_sparse_array(true) return cjson.encode({[20] = 2})')).toEqual(['{"20":2}']);
    });

    it('encodes mixed tables as objects with string keys', () => {
      expect(enc('{1, 2, a = 3}').map((v) => (typeof v === 'string' ? JSON.parse(v) : v))).toEqual([true, { 1: 1, 2: 2, a: 3 }]);
      expect(run('return cjson.encode({[1.5] = "x"}), cjson.encode({[-1] = "x"}), cjson.encode({[0] = "x"}), cjson.encode({["1"] = "x"})')).toEqual([
        '{"1.5":"x"}',
        '{"-1":"x"}',
        '{"0":"x"}',
        '{"1":"x"}',
      ]);
    });

    it('raises for unsupported values and keys', () => {
      expect(enc('{a = print}')).toEqual([false, 'Cannot serialise function: type not supported']);
      expect(enc('print')).toEqual([false, 'Cannot serialise function: type not supported']);
      expect(enc('{coroutine.create(print)}')).toEqual([false, 'Cannot serialise thread: type not supported']);
      expect(enc('{[true] = "x"}')).toEqual([false, 'Cannot serialise boolean: table key must be a number or string']);
    });

    it('limits nesting depth (1000 by default)', () => {
      expect(run('local d = {} local c = d for i = 1, 1001 do c[1] = {} c = c[1] end return pcall(cjson.encode, d)')).toEqual([
        false,
        'Cannot serialise, excessive nesting (1001)',
      ]);
      expect(run('local d = {} local c = d for i = 1, 999 do c[1] = {} c = c[1] end return #cjson.encode(d)')).toEqual([2000]);
      expect(run('cjson.encode_max_depth(2) return pcall(cjson.encode, {{{}}})')).toEqual([false, 'Cannot serialise, excessive nesting (3)']);
    });

    it('takes exactly one argument', () => {
      expect(run('return pcall(cjson.encode)')).toEqual([false, "bad argument #1 to 'encode' (expected 1 argument)"]);
      expect(run('return pcall(cjson.encode, 1, 2)')).toEqual([false, "bad argument #1 to 'encode' (expected 1 argument)"]);
    });

    it('encode_invalid_numbers', () => {
      expect(run('cjson.encode_invalid_numbers(true) return cjson.encode({1/0, -1/0})')).toEqual(['[Infinity,-Infinity]']);
      expect(run('cjson.encode_invalid_numbers("null") return cjson.encode({1/0, 0/0}), cjson.encode_invalid_numbers()')).toEqual(['[null,null]', 'null']);
      expect(run('return pcall(cjson.encode_invalid_numbers, "x")')).toEqual([false, "bad argument #1 to 'encode_invalid_numbers' (invalid option 'x')"]);
    });

    it('encode_number_precision accepts 1..16', () => {
      expect(run('cjson.encode_number_precision(16) return cjson.encode(0.1), cjson.encode(1/3)')).toEqual(['0.1', '0.3333333333333333']);
      expect(run('return pcall(cjson.encode_number_precision, 17)')).toEqual([false, "bad argument #1 to 'encode_number_precision' (expected integer between 1 and 16)"]);
      expect(run('return pcall(cjson.encode_number_precision, 0)')).toEqual([false, "bad argument #1 to 'encode_number_precision' (expected integer between 1 and 16)"]);
      expect(run('return pcall(cjson.encode_number_precision, "x")')).toEqual([false, "bad argument #1 to 'encode_number_precision' (number expected, got string)"]);
    });

    it('encode_escape_forward_slash(false) leaves "/" alone', () => {
      expect(run('cjson.encode_escape_forward_slash(false) return cjson.encode("a/b")')).toEqual(['"a/b"']);
    });
  });

  describe('decode', () => {
    it('decodes objects, arrays, null as cjson.null, and \\u escapes with surrogate pairs', () => {
      expect(run(String.raw`local t = cjson.decode([[{"a":[1,2,{"b":null}],"c":"x\u00e9\ud83d\ude00\/"}]]) return t.a[3].b == cjson.null, t.a[3].b == ngx.null, t.c, #t.a`)).toEqual([
        true,
        true,
        'xé😀/',
        3,
      ]);
      expect(run('return cjson.decode("null") == cjson.null, cjson.decode("true"), cjson.decode(\'"x"\'), cjson.decode("42"), math.type(cjson.decode("42"))')).toEqual([
        true,
        true,
        'x',
        42,
        'integer',
      ]);
    });

    it('decodes numbers: integers exact, floats, -0, big values', () => {
      expect(run('local t = cjson.decode("[1, -1, 1.5, 1e2, 1E-2, -0, 0.1, 12345678901234567890, 123456789]") return dump(t)')).toEqual([
        '{1=1,2=-1,3=1.5,4=100,5=0.01,6=-0.0,7=0.1,8=1.2345678901235e+19,9=123456789}',
      ]);
      expect(run('return cjson.decode("9007199254740993"), cjson.decode("1e400"), cjson.decode("0x10"), cjson.decode("01"), cjson.decode("+1"), cjson.decode("1.")')).toEqual([
        9007199254740993n,
        Infinity,
        16,
        1,
        1,
        1,
      ]);
      expect(run('local t = cjson.decode("[Infinity, -Infinity, inf, nan]") return t[1], t[2], t[3], t[4] ~= t[4]')).toEqual([Infinity, -Infinity, Infinity, true]);
    });

    it('accepts whitespace, raw control bytes in strings, and stops at a NUL byte', () => {
      expect(run(String.raw`return dump(cjson.decode(' \t\n\r[ 1 , 2 ] ')), cjson.decode('"a\1b"') == "a\1b", cjson.decode('"a\\u0000b"') == "a\0b", dump(cjson.decode("[1]\0garbage"))`)).toEqual([
        '{1=1,2=2}',
        true,
        true,
        '{1=1}',
      ]);
    });

    const errors: [string, string][] = [
      ['', 'Expected value but found T_END at character 1'],
      ['x', 'Expected value but found invalid token at character 1'],
      ['{"a":}', 'Expected value but found T_OBJ_END at character 6'],
      ['{a:1}', 'Expected object key string but found invalid token at character 2'],
      ['[1,]', 'Expected value but found T_ARR_END at character 4'],
      ['[1 2]', 'Expected comma or array end but found T_NUMBER at character 4'],
      ['{"a" 1}', 'Expected colon but found T_NUMBER at character 6'],
      ['"abc', 'Expected value but found unexpected end of string at character 5'],
      ['"\\x"', 'Expected value but found invalid escape code at character 2'],
      ['"\\u12"', 'Expected value but found invalid unicode escape code at character 2'],
      ['"\\ud800"', 'Expected value but found invalid unicode escape code at character 2'],
      ['"\\udc00"', 'Expected value but found invalid unicode escape code at character 2'],
      ['[1] x', 'Expected the end but found invalid token at character 5'],
      ['{"a":1,}', 'Expected object key string but found T_OBJ_END at character 8'],
      ['-', 'Expected value but found invalid number at character 1'],
      ['.5', 'Expected value but found invalid token at character 1'],
      ['nul', 'Expected value but found invalid token at character 1'],
      ['truex', 'Expected the end but found invalid token at character 5'],
      ['[', 'Expected value but found T_END at character 2'],
      ['{', 'Expected object key string but found T_END at character 2'],
      ['{"a"', 'Expected colon but found T_END at character 5'],
      [']', 'Expected value but found T_ARR_END at character 1'],
      ['{"a":1 "b":2}', 'Expected comma or object end but found T_STRING at character 8'],
      ['[1,2', 'Expected comma or array end but found T_END at character 5'],
    ];
    for (const [json, message] of errors) {
      it(`raises "${message}" for ${JSON.stringify(json)}`, () => {
        expect(dec(json)).toEqual([false, message]);
      });
    }

    it('limits nesting depth (1000 by default)', () => {
      expect(run('return pcall(cjson.decode, string.rep("[", 1001) .. string.rep("]", 1001))')).toEqual([
        false,
        'Found too many nested data structures (1001) at character 1001',
      ]);
      expect(run('return type(cjson.decode(string.rep("[", 1000) .. string.rep("]", 1000)))')).toEqual(['table']);
      expect(run('cjson.decode_max_depth(2) return pcall(cjson.decode, "[[[1]]]")')).toEqual([false, 'Found too many nested data structures (3) at character 3']);
      expect(run('cjson.decode_max_depth(2) return pcall(cjson.decode, \'{"a":{"b":{}}}\')')).toEqual([false, 'Found too many nested data structures (3) at character 11']);
    });

    it('rejects UTF-16/32 input', () => {
      expect(run('return pcall(cjson.decode, "\\0[\\0]")')).toEqual([false, 'JSON parser does not support UTF-16 or UTF-32']);
    });

    it('argument checks', () => {
      expect(run('return pcall(cjson.decode)')).toEqual([false, "bad argument #1 to 'decode' (expected 1 argument)"]);
      expect(run('return pcall(cjson.decode, "1", 2)')).toEqual([false, "bad argument #1 to 'decode' (expected 1 argument)"]);
      expect(run('return pcall(cjson.decode, {})')).toEqual([false, "bad argument #1 to 'decode' (string expected, got table)"]);
      expect(run('return cjson.decode(123)')).toEqual([123]);
    });

    it('decode_invalid_numbers(false) is strict JSON', () => {
      expect(run('cjson.decode_invalid_numbers(false) return pcall(cjson.decode, "[NaN]")')).toEqual([false, 'Expected value but found invalid token at character 2']);
      expect(run('cjson.decode_invalid_numbers(false) return pcall(cjson.decode, "0x10")')).toEqual([false, 'Expected value but found invalid number at character 1']);
    });

    it('decode_array_with_array_mt(true) round-trips empty arrays', () => {
      expect(run('local a = cjson.encode(cjson.decode(\'{"my_array":[]}\')) cjson.decode_array_with_array_mt(true) return a, cjson.encode(cjson.decode(\'{"my_array":[]}\'))')).toEqual([
        '{"my_array":{}}',
        '{"my_array":[]}',
      ]);
    });
  });

  it('reports its configuration defaults', () => {
    expect(run('return cjson.encode_max_depth(), cjson.decode_max_depth(), cjson.encode_number_precision(), cjson.encode_invalid_numbers(), cjson.decode_invalid_numbers(), cjson.encode_keep_buffer()')).toEqual([
      1000, 1000, 14, false, true, true,
    ]);
    expect(run('return cjson.encode_sparse_array()')).toEqual([false, 2, 10]);
    expect(run('return pcall(cjson.encode_max_depth, 1, 2)')).toEqual([false, "bad argument #2 to 'encode_max_depth' (found too many arguments)"]);
  });

  it('cjson.new() has its own configuration; _NAME; null is ngx.null', () => {
    expect(run('local c2 = cjson.new() c2.encode_max_depth(3) return c2.encode_max_depth(), cjson.encode_max_depth(), c2 ~= cjson, cjson._NAME, type(cjson.null), cjson.null == ngx.null')).toEqual([
      3, 1000, true, 'cjson', 'userdata', true,
    ]);
  });

  describe('cjson.safe', () => {
    it('returns nil and the message instead of raising', () => {
      expect(run('return safe.decode("x")')).toEqual([null, 'Expected value but found invalid token at character 1']);
      expect(run('return safe.encode(print)')).toEqual([null, 'Cannot serialise function: type not supported']);
      expect(run('return safe.encode({[1] = 1, [20] = 2})')).toEqual([null, 'Cannot serialise table: excessively sparse array']);
      expect(run('return dump(safe.decode("[1]")), safe.null == cjson.null, safe._NAME, safe.new ~= cjson.new')).toEqual(['{1=1}', true, 'cjson', true]);
    });

    it('still raises for a wrong argument count', () => {
      expect(run('return pcall(safe.encode)')).toEqual([false, "bad argument #1 to 'encode' (expected 1 argument)"]);
    });
  });
});
