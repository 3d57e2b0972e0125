// ngx string/encoding/hash functions against values observed on nginx 1.22 + lua-nginx-module 0.10.23.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LuaVm } from '../vm/index.js';
import type { NgxInstall } from './install.js';
import { createNgxVm, LUA_DUMP } from './ngx-vm.test-support.js';
import { installString } from './string.js';

// Helpers the Lua snippets share: hex of a binary string, and a sorted dump of a table.
const PRELUDE = String.raw`
local ngx = ...
local function hex(s) return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end)) end
${LUA_DUMP}`;

const ALL_BYTES = 'local all = {} for i = 0, 255 do all[#all + 1] = string.char(i) end all = table.concat(all)';

describe('ngx string functions', () => {
  let vm: LuaVm;
  let ctx: NgxInstall;
  const run = (src: string) => vm.run(PRELUDE + src, 'test', ctx.ngx);

  beforeAll(async () => {
    ({ vm, ctx } = await createNgxVm([installString]));
  });
  afterAll(() => vm.close());

  describe('escape_uri', () => {
    it('type 2 (default) escapes all but alphanumerics and !\'()*-._~', () => {
      const [out] = run(`${ALL_BYTES} return ngx.escape_uri(all)`);
      expect(out).toBe(
        '%00%01%02%03%04%05%06%07%08%09%0A%0B%0C%0D%0E%0F%10%11%12%13%14%15%16%17%18%19%1A%1B%1C%1D%1E%1F%20!%22%23%24%25%26\'()*%2B%2C-.%2F0123456789%3A%3B%3C%3D%3E%3F%40ABCDEFGHIJKLMNOPQRSTUVWXYZ%5B%5C%5D%5E_%60abcdefghijklmnopqrstuvwxyz%7B%7C%7D~' +
          Array.from({ length: 129 }, (_, i) => '%' + (i + 127).toString(16).toUpperCase()).join(''),
      );
    });

    it('type 0 escapes controls, space, #, %, ? and bytes >= 0x7f', () => {
      const [out] = run(`${ALL_BYTES} return ngx.escape_uri(all:sub(1, 128), 0)`);
      expect(out).toBe(
        '%00%01%02%03%04%05%06%07%08%09%0A%0B%0C%0D%0E%0F%10%11%12%13%14%15%16%17%18%19%1A%1B%1C%1D%1E%1F%20!"%23$%25&\'()*+,-./0123456789:;<=>%3F@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~%7F',
      );
    });

    it('types 1, 3..6 use nginx\'s other tables', () => {
      expect(run('return ngx.escape_uri("a b+c&d\\"<>\'%", 1), ngx.escape_uri("a b", 3), ngx.escape_uri("a\\"b\'", 4), ngx.escape_uri("a b%\\128", 5) == "a%20b%25\\128", ngx.escape_uri("a b%", 6)')).toEqual([
        'a%20b%2Bc&d"<>\'%25',
        'a%20b',
        'a%22b%27',
        true,
        'a%20b%25',
      ]);
    });

    it('escapes UTF-8 byte by byte and converts non-strings like resty.core', () => {
      expect(run('return ngx.escape_uri("héllo wörld/?&=+"), ngx.escape_uri(nil), ngx.escape_uri(false), ngx.escape_uri(12), ngx.escape_uri(true), ngx.escape_uri(1.5)')).toEqual([
        'h%C3%A9llo%20w%C3%B6rld%2F%3F%26%3D%2B',
        '',
        '',
        '12',
        'true',
        '1.5',
      ]);
    });

    it('raises for a bad type', () => {
      // level 3, as resty.core raises it: under pcall that is the code calling pcall
      expect(run('return pcall(ngx.escape_uri, "a b", 7)')[1]).toMatch(/^test:\d+: "type" 7 out of range$/);
      expect(run('return pcall(ngx.escape_uri, "a b", -1)')[1]).toMatch(/^test:\d+: "type" -1 out of range$/);
      expect(run('return pcall(ngx.escape_uri, "a b", "2")')[1]).toMatch(/^test:\d+: "type" is not a number$/);
    });
  });

  it('unescape_uri decodes %XX and +, leaves bad escapes alone', () => {
    expect(run('return ngx.unescape_uri("a%20b+c%2Fd%zz%2%41%e4%BD%A0%"), ngx.unescape_uri(nil), ngx.unescape_uri(12), ngx.unescape_uri("%00x")')).toEqual([
      'a b c/d%zz%2A你%',
      '',
      '12',
      '\0x',
    ]);
    expect(run('return ngx.unescape_uri("%"), ngx.unescape_uri("%4"), ngx.unescape_uri("%%41"), ngx.unescape_uri("a+b"), ngx.unescape_uri("%2b"), ngx.unescape_uri("%FF%fe") == "\\255\\254"')).toEqual([
      '%',
      '%4',
      '%A',
      'a b',
      '+',
      true,
    ]);
  });

  describe('encode_args', () => {
    it('encodes strings, numbers, true as a bare key, arrays as repeated keys; drops false', () => {
      expect(run('return ngx.encode_args({a = "1"}), ngx.encode_args({}), ngx.encode_args({a = {}}), ngx.encode_args({x = false})')).toEqual(['a=1', '', '', '']);
      const [out] = run('return ngx.encode_args({["a b"] = "c d/é", x = true, y = false, n = 3, f = 1.5, arr = {"1", 2, true, false}})');
      expect(String(out).split('&').sort()).toEqual(['a%20b=c%20d%2F%C3%A9', 'arr', 'arr=1', 'arr=2', 'f=1.5', 'n=3', 'x'].sort());
    });

    it('formats numbers like LuaJIT and escapes with the URI-component table', () => {
      const [out] = run('return ngx.encode_args({a = 2^53, b = 1e100, c = -0.0, d = 0.1, e = 1/0, g = 2.0})');
      expect(String(out).split('&').sort()).toEqual(['a=9.007199254741e%2B15', 'b=1e%2B100', 'c=-0', 'd=0.1', 'e=inf', 'g=2']);
      expect(run('return ngx.encode_args({["!*\'()"] = "!*\'()~"})')).toEqual(["!*'()=!*'()~"]);
    });

    it('raises for bad keys, values and argument counts', () => {
      expect(run('return pcall(ngx.encode_args, {"a"})')).toEqual([false, 'attempt to use a non-string key in the "args" option table']);
      expect(run('return pcall(ngx.encode_args, {[true] = "a"})')).toEqual([false, 'attempt to use a non-string key in the "args" option table']);
      expect(run('return pcall(ngx.encode_args, {a = print})')).toEqual([false, 'attempt to use function as query arg value']);
      expect(run('return pcall(ngx.encode_args, {a = {{}}})')).toEqual([false, 'attempt to use table as query arg value']);
      expect(run('return pcall(ngx.encode_args, {a = ngx.null})')).toEqual([false, 'attempt to use userdata as query arg value']);
      expect(run('return pcall(ngx.encode_args)')).toEqual([false, 'expecting 1 argument but seen 0']);
      expect(run('return pcall(ngx.encode_args, {a = 1}, 2)')).toEqual([false, 'expecting 1 argument but seen 2']);
      expect(run('return pcall(ngx.encode_args, "a")')).toEqual([false, "bad argument #1 to 'encode_args' (table expected, got string)"]);
    });
  });

  describe('decode_args', () => {
    it('decodes repeated keys into tables, bare keys into true, skips empty keys', () => {
      expect(run('return dump(ngx.decode_args("a=1&b=2&a=3&c&d=&=e&&f==g&%61%20=%62+c"))')).toEqual([
        '{a={1="1",2="3"},a ="b c",b="2",c=true,d="",f="=g"}',
      ]);
      expect(run('return dump(ngx.decode_args("a&a=1&a")), dump(ngx.decode_args("")), dump(ngx.decode_args("a=1;b=2"))')).toEqual([
        '{a={1=true,2="1",3=true}}',
        '{}',
        '{a="1;b=2"}',
      ]);
    });

    it('stops after max pairs (default 100) and says "truncated"; every & counts', () => {
      expect(run('local t, e = ngx.decode_args("a=1&b=2&c=3", 2) return dump(t), e')).toEqual(['{a="1",b="2"}', 'truncated']);
      expect(run('return select("#", ngx.decode_args("a=1")), select("#", ngx.decode_args("a=1&b=2", 2))')).toEqual([1, 1]);
      expect(run('local t, e = ngx.decode_args("a=1&b=2&", 2) return dump(t), e')).toEqual(['{a="1",b="2"}', 'truncated']);
      expect(run('return dump(ngx.decode_args("a=1&b=2&c=3", 0)), dump(ngx.decode_args("a=1&b=1&c", -1))')).toEqual(['{a="1",b="2",c="3"}', '{a="1",b="1",c=true}']);
      expect(run('return dump(ngx.decode_args("&&&a=1&b=2", 1)), dump(ngx.decode_args("a=1&b=2&c=3", 1.7))')).toEqual(['{}', '{a="1"}']);
      expect(run('local t = {} for i = 1, 150 do t[#t + 1] = "k" .. i .. "=v" end local n = 0 for _ in pairs(ngx.decode_args(table.concat(t, "&"))) do n = n + 1 end return n')).toEqual([100]);
    });

    it('keeps bytes exact', () => {
      expect(run('local t = ngx.decode_args("a=%00%ff&b=%zz") return t.a == "\\0\\255", t.b')).toEqual([true, '%zz']);
    });

    it('raises for bad arguments', () => {
      expect(run('return pcall(ngx.decode_args)')).toEqual([false, 'expecting 1 or 2 arguments but seen 0']);
      expect(run('return pcall(ngx.decode_args, "a=1", 1, 2)')).toEqual([false, 'expecting 1 or 2 arguments but seen 3']);
      expect(run('return pcall(ngx.decode_args, {})')).toEqual([false, "bad argument #1 to 'decode_args' (string expected, got table)"]);
      expect(run('return pcall(ngx.decode_args, "a=1", "x")')).toEqual([false, "bad argument #2 to 'decode_args' (number expected, got string)"]);
      expect(run('return pcall(ngx.decode_args, "a", nil)')).toEqual([false, "bad argument #2 to 'decode_args' (number expected, got nil)"]);
      expect(run('return dump(ngx.decode_args(12)), dump(ngx.decode_args("a=1&b=2", "1"))')).toEqual(['{12=true}', '{a="1"}']);
    });
  });

  describe('base64', () => {
    it('encode_base64 pads unless no_padding; nil and false encode as ""', () => {
      expect(run('return ngx.encode_base64("hello"), ngx.encode_base64("hello", true), ngx.encode_base64(""), ngx.encode_base64(nil), ngx.encode_base64(123), ngx.encode_base64("\\255\\254\\253\\0"), ngx.encode_base64("x", false)')).toEqual([
        'aGVsbG8=',
        'aGVsbG8',
        '',
        '',
        'MTIz',
        '//79AA==',
        'eA==',
      ]);
    });

    it('encode_base64 raises for a non-boolean no_padding', () => {
      expect(run('return pcall(ngx.encode_base64, "x", 1)')).toEqual([false, 'bad no_padding: boolean expected, got number']);
      expect(run('return pcall(ngx.encode_base64, "x", "yes")')).toEqual([false, 'bad no_padding: boolean expected, got string']);
    });

    it('decode_base64 follows ngx_decode_base64: stops at "=", nil on bad input', () => {
      expect(
        run('local r = {} for i, s in ipairs{"aGVsbG8=", "aGVsbG8", "aGVsbG8==", "a", "", "!!!!", "aGV sbG8=", "_-8=", "aGVsbA==", "aGVsbA=", "aGVsb", "aGVsbG8=x", "aG=sbG8=", "YR", "Y===", "YQ==YQ=="} do r[i] = tostring(ngx.decode_base64(s)) end return table.concat(r, "|")'),
      ).toEqual(['hello|hello|hello|nil||nil|nil|nil|hell|hell|nil|hello|h|a|nil|a']);
      expect(run('return hex(ngx.decode_base64("/+8="))')).toEqual(['ffef']);
    });

    it('decode_base64 raises "string argument only" for non-strings', () => {
      expect(run('return pcall(ngx.decode_base64)')).toEqual([false, 'string argument only']);
      expect(run('return pcall(ngx.decode_base64, 123)')).toEqual([false, 'string argument only']);
    });
  });

  it('md5 and md5_bin', () => {
    expect(run('return ngx.md5("hello"), ngx.md5(""), ngx.md5(nil), ngx.md5(12), hex(ngx.md5_bin("hello")), #ngx.md5_bin("x")')).toEqual([
      '5d41402abc4b2a76b9719d911017c592',
      'd41d8cd98f00b204e9800998ecf8427e',
      'd41d8cd98f00b204e9800998ecf8427e',
      'c20ad4d76fe97759aa27a0c99bff6710',
      '5d41402abc4b2a76b9719d911017c592',
      16,
    ]);
  });

  it('sha1_bin', () => {
    expect(run('return hex(ngx.sha1_bin("hello")), hex(ngx.sha1_bin(nil))')).toEqual(['aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d', 'da39a3ee5e6b4b0d3255bfef95601890afd80709']);
  });

  it('hmac_sha1 and its argument errors', () => {
    expect(run('return hex(ngx.hmac_sha1("key", "The quick brown fox jumps over the lazy dog")), hex(ngx.hmac_sha1(1, 2))')).toEqual([
      'de7c9b85b8b78aa6bc8a7a36f70a90701c9db4d9',
      'd075ca12b8259a0b27438f075314a3bb88a927b5',
    ]);
    expect(run('return pcall(ngx.hmac_sha1, "k")')).toEqual([false, 'expecting 2 arguments, but got 1']);
    expect(run('return pcall(ngx.hmac_sha1, "x", "y", "z")')).toEqual([false, 'expecting 2 arguments, but got 3']);
    expect(run('return pcall(ngx.hmac_sha1, nil, "x")')).toEqual([false, "bad argument #1 to 'hmac_sha1' (string expected, got nil)"]);
    expect(run('return pcall(ngx.hmac_sha1, "x", true)')).toEqual([false, "bad argument #2 to 'hmac_sha1' (string expected, got boolean)"]);
  });

  it('crc32_short and crc32_long are zlib crc32 as unsigned integers', () => {
    expect(run('return ngx.crc32_short("hello"), ngx.crc32_long("hello"), ngx.crc32_short(""), ngx.crc32_short(nil), ngx.crc32_long("The quick brown fox jumps over the lazy dog"), ngx.crc32_short("\\255\\255\\255\\255"), math.type(ngx.crc32_short("abc"))')).toEqual([
      907060870, 907060870, 0, 0, 1095738169, 4294967295, 'integer',
    ]);
  });

  it('quote_sql_str quotes and escapes like MySQL', () => {
    expect(run('return ngx.quote_sql_str("a\'b\\"c\\\\d\\0e\\n\\r\\t\\b\\26z"), ngx.quote_sql_str(""), ngx.quote_sql_str("héllo"), ngx.quote_sql_str(12)')).toEqual([
      "'a\\'b\\\"c\\\\d\\0e\\n\\r\\t\\b\\Zz'",
      "''",
      "'héllo'",
      "'12'",
    ]);
    expect(run('return pcall(ngx.quote_sql_str)')).toEqual([false, 'expecting one argument']);
    expect(run('return pcall(ngx.quote_sql_str, "a", "b")')).toEqual([false, 'expecting one argument']);
    expect(run('return pcall(ngx.quote_sql_str, {})')).toEqual([false, "bad argument #1 to 'quote_sql_str' (string expected, got table)"]);
  });
});
