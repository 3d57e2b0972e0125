// ngx.re and require "ngx.re" against results observed on nginx 1.22 + lua-nginx-module 0.10.23 (PCRE 8).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LuaVm } from '../../vm/index.js';
import type { NgxInstall } from '../install.js';
import { createNgxVm, LUA_DUMP } from '../ngx-vm.test-support.js';
import { installRe } from './install.js';

const PRELUDE = String.raw`
local ngx, preload = ...
local re = preload["ngx.re"]()
${LUA_DUMP}local function all(...) local t = {} for i = 1, select("#", ...) do t[i] = dump((select(i, ...))) end return table.concat(t, ", ") end
`;

describe('ngx.re', () => {
  let vm: LuaVm;
  let ctx: NgxInstall;
  /** Runs `all(<expr>)` and returns the rendering, the same one used to record nginx's answers. */
  const show = (expr: string) => vm.run(`${PRELUDE} return all(${expr})`, 'test', ctx.ngx, ctx.preload)[0];
  const run = (src: string) => vm.run(PRELUDE + src, 'test', ctx.ngx, ctx.preload);

  beforeAll(async () => {
    ({ vm, ctx } = await createNgxVm([installRe]));
  });
  afterAll(() => vm.close());

  describe('match', () => {
    it('returns numbered captures, unmatched ones as false', () => {
      expect(show('ngx.re.match("hello 1234", "([0-9])[0-9]+")')).toBe('{0="1234",1="1"}');
      expect(show('ngx.re.match("hello", "(h)(x)?(e)")')).toBe('{0="he",1="h",2=false,3="e"}');
      expect(show('ngx.re.match("hello", "\\\\d")')).toBe('nil');
      expect(show('ngx.re.match("b", "(a|)b")')).toBe('{0="b",1=""}');
    });

    it('returns named captures under their names and numbers', () => {
      expect(show('ngx.re.match("hello 1234", "(?<word>[a-z]+) (?<num>\\\\d+)")')).toBe('{0="hello 1234",1="hello",2="1234",num="1234",word="hello"}');
      expect(show('ngx.re.match("ab", "(?<x>a)(?<y>z)?b")')).toBe('{0="ab",1="a",2=false,x="a",y=false}');
      expect(show('ngx.re.match("ab", "(?P<x>a)(?\'y\'b)(?P=x)?")')).toBe('{0="ab",1="a",2="b",x="a",y="b"}');
    });

    it('D collects duplicate names into tables of the matched values', () => {
      expect(show('ngx.re.match("ab", "(?<x>a)(?<x>b)", "D")')).toBe('{0="ab",1="a",2="b",x={1="a",2="b"}}');
      expect(show('ngx.re.match("a", "(?<x>a)|(?<x>b)", "D")')).toBe('{0="a",1="a",2=false,x={1="a"}}');
    });

    it('uses and updates ctx.pos (1-based, after the match)', () => {
      expect(show('(function() local ctx = {pos = 3} local m = ngx.re.match("abcabc", "a", nil, ctx) return m, ctx.pos end)()')).toBe('{0="a"}, 5');
      expect(show('(function() local ctx = {} local m = ngx.re.match("abcabc", "b", nil, ctx) return m, ctx.pos end)()')).toBe('{0="b"}, 3');
      expect(show('(function() local ctx = {pos = 5} local m = ngx.re.match("abcabc", "a", nil, ctx) return m, ctx.pos end)()')).toBe('nil, 5');
      expect(show('(function() local ctx = {pos = 10} return ngx.re.match("abc", "a", nil, ctx), ctx.pos end)()')).toBe('nil, 10');
      expect(show('(function() local ctx = {} local r = {} for i = 1, 4 do local m = ngx.re.match("ab", "", nil, ctx) r[#r+1] = m[0] .. ":" .. ctx.pos end return table.concat(r, " ") end)()')).toBe('":1 :1 :1 :1"');
    });

    it('fills a given res table without clearing it', () => {
      expect(show('(function() local res = {9, 9, 9, 9, x = 1} local m = ngx.re.match("ab", "(a)", nil, nil, res) return m == res, m end)()')).toBe('true, {0="a",1="a",2=9,3=9,4=9,x=1}');
    });

    it('works on bytes, or on UTF-8 characters with "u"; offsets stay in bytes', () => {
      expect(show('ngx.re.match("héllo", "h.l")')).toBe('nil');
      expect(show('ngx.re.match("héllo", "h..l")')).toBe('{0="hél"}');
      expect(show('ngx.re.match("héllo", "h.l", "u")')).toBe('{0="hél"}');
      expect(show('(function() local ctx = {} local m = ngx.re.match("héllo", "l", "u", ctx) return m, ctx.pos end)()')).toBe('{0="l"}, 5');
    });

    it('options i, x, s, m, a', () => {
      expect(show('ngx.re.match("HeLLo", "hello", "i")')).toBe('{0="HeLLo"}');
      expect(show('ngx.re.match("abc", " a # comment\\n  b c ", "x")')).toBe('{0="abc"}');
      expect(show('ngx.re.match("a#b", "a[#]b # c", "x")')).toBe('{0="a#b"}');
      expect(show('ngx.re.match("a b", "a\\\\ b", "x")')).toBe('{0="a b"}');
      expect(show('ngx.re.match("a\\nb", "a.b"), ngx.re.match("a\\nb", "a.b", "s")')).toBe('nil, {0="a\\\nb"}');
      expect(show('ngx.re.match("a\\nb", "^b"), ngx.re.match("a\\nb", "^b", "m")')).toBe('nil, {0="b"}');
      expect(show('ngx.re.find("xa", "a", "a"), ngx.re.find("ax", "a", "a")')).toBe('nil, 1, 1');
    });

    it('a leading (?i) becomes the i flag', () => {
      expect(show('ngx.re.match("ABC", "(?i)abc")')).toBe('{0="ABC"}');
    });

    it('raises for unknown option letters, at the caller', () => {
      expect(run('return pcall(ngx.re.match, "a", "a", "iZ")')[1]).toMatch(/unknown flag "Z" \(flags "iZ"\)$/);
      expect(run('local ok, e = pcall(function() local r = ngx.re.gsub("a", "a", "x", "Z") return r end) return e')[0]).toMatch(/^test:\d+: unknown flag "Z" \(flags "Z"\)$/);
    });
  });

  describe('PCRE syntax and semantics', () => {
    it('anchors: $ before a final newline, \\A, \\z, \\Z, multiline ^ not after a trailing newline', () => {
      expect(show('ngx.re.find("ab\\n", "b$"), ngx.re.find("ab\\n\\n", "b$")')).toBe('2, nil');
      expect(show('ngx.re.find("xab", "\\\\Aab"), ngx.re.find("ab", "\\\\Aab")')).toBe('nil, 1, 2');
      expect(show('ngx.re.find("ab\\n", "ab\\\\z"), ngx.re.find("ab\\n", "ab\\\\Z")')).toBe('nil, 1, 2');
      expect(show('ngx.re.find("a\\n", "^", "m", {pos = 2})')).toBe('nil');
      expect(show('ngx.re.gsub("a\\nb\\n", "$", "X", "m")')).toBe('"aX\\\nbX\\\nX", 3');
      expect(show('ngx.re.gsub("a\\nb\\n", "^", "X", "m")')).toBe('"Xa\\\nXb\\\n", 2');
      expect(show('ngx.re.gsub("ab\\n", "$", "X")')).toBe('"abX\\\nX", 2');
    });

    it('"." matches \\r; \\s is ASCII whitespace including \\v; \\w is ASCII', () => {
      expect(show('ngx.re.find("\\r", ".")')).toBe('1, 1');
      expect(run('return ngx.re.gsub("\\t\\n\\v\\f\\r \\160x", "\\\\s", ".") == "......\\160x"')).toEqual([true]);
      expect(show('ngx.re.gsub("aé_1", "\\\\w", "."), ngx.re.gsub("aé_1", "\\\\w", ".", "u")')).toBe('".é..", ".é..", 3');
    });

    it('case folding: bytes fold only in ASCII, characters fold with "u"', () => {
      expect(show('ngx.re.find("\\195", "\\227", "i")')).toBe('nil');
      expect(show('ngx.re.find("É", "é", "iu"), ngx.re.find("É", "é", "i")')).toBe('1, nil');
    });

    it('escapes: \\x, \\x{}, octal, \\Q..\\E, escaped punctuation, \\h, \\R, \\v, literal braces', () => {
      expect(show('ngx.re.find("é", "\\\\xc3\\\\xa9"), ngx.re.find("é", "\\\\x{e9}", "u"), ngx.re.find("é", "\\\\x{e9}")')).toBe('1, 1, nil');
      expect(show('ngx.re.find("a\\0b", "a\\\\0b"), ngx.re.find("aAb", "a\\\\101b")')).toBe('1, 1, 3');
      expect(show('ngx.re.match("a.b*c", "\\\\Q.b*\\\\E")')).toBe('{0=".b*"}');
      expect(show('ngx.re.find("a-b", "a\\\\-b"), ngx.re.find("a-b", "[\\\\-]"), ngx.re.find("a\'b", "a\\\\\'b")')).toBe('1, 2, 1, 3');
      expect(show('ngx.re.gsub("a \\tb", "\\\\h", ".")')).toBe('"a..b", 2');
      expect(show('ngx.re.gsub("a\\r\\nb\\nc", "\\\\R", ".")')).toBe('"a.b.c", 2');
      expect(show('ngx.re.gsub("a\\nb\\vc", "\\\\v", ".")')).toBe('"a.b.c", 2');
      expect(show('ngx.re.find("a{b", "a{b"), ngx.re.find("a{1b", "a{1b"), ngx.re.find("a{,2}", "a{,2}")')).toBe('1, 1, 1, 5');
    });

    it('\\p classes: Latin-1 bytes without "u", Unicode with it', () => {
      expect(show('ngx.re.find("aé", "\\\\p{L}+", "u"), ngx.re.find("aé", "\\\\p{L}+")')).toBe('1, 1, 2');
    });

    it('groups: lookbehind, atomic groups, possessive quantifiers, back references, comments', () => {
      expect(show('ngx.re.match("price: $42", "(?<=\\\\$)\\\\d+")')).toBe('{0="42"}');
      expect(show('ngx.re.match("aaab", "(?>a+)b")')).toBe('{0="aaab"}');
      expect(show('ngx.re.match("aaab", "a++b"), ngx.re.match("aaa", "a++a")')).toBe('{0="aaab"}, nil');
      expect(show('ngx.re.match("abab", "(ab)\\\\1"), ngx.re.match("abab", "(?<p>ab)\\\\k<p>")')).toBe('{0="abab",1="ab"}, {0="abab",1="ab",p="ab"}');
      expect(show('ngx.re.match("ab", "a(?#xyz)b")')).toBe('{0="ab"}');
      expect(show('ngx.re.match("aaa", "a+?")')).toBe('{0="a"}');
    });

    it('bad UTF-8 with "u": pcre_exec() failed: -10 / -11, invalid UTF-8 pattern', () => {
      expect(show('ngx.re.match("\\255abc", "abc", "u")')).toBe('nil, "pcre_exec() failed: -10"');
      expect(show('ngx.re.gsub("héllo", "", "-", "u")')).toBe('nil, nil, "pcre_exec() failed: -11"');
      expect(run('local m, e = ngx.re.match("abc", "\\255", "u") return e == "pcre_compile() failed: invalid UTF-8 string in \\"\\255\\" at \\"\\255\\""')).toEqual([true]);
    });

    const compileErrors: [string, string][] = [
      ['(a', 'missing ) in "(a"'],
      ['a**', 'nothing to repeat in "a**" at "*"'],
      ['[a', 'missing terminating ] for character class in "[a"'],
      ['a{2,1}', 'numbers out of order in {} quantifier in "a{2,1}" at "}"'],
      ['\\', '\\ at end of pattern in "\\"'],
      ['(?<n>a)(?<n>b)', 'two named subpatterns have the same name in "(?<n>a)(?<n>b)" at ">b)"'],
      ['?', 'nothing to repeat in "?" at "?"'],
      ['(?P<1a>x)', 'group name must start with a non-digit in "(?P<1a>x)" at "1a>x)"'],
      ['a)', 'unmatched parentheses in "a)" at ")"'],
      ['[b-a]', 'range out of order in character class in "[b-a]" at "a]"'],
      ['(?z)', 'unrecognized character after (? or (?- in "(?z)" at "z)"'],
      ['a{99999}', 'number too big in {} quantifier in "a{99999}" at "}"'],
      ['(a)\\2', 'reference to non-existent subpattern in "(a)\\2"'],
      ['\\k<x>', 'reference to non-existent subpattern in "\\k<x>" at ">"'],
      ['(?P=x)', 'reference to non-existent subpattern in "(?P=x)" at ")"'],
      ['x{2}{3}', 'nothing to repeat in "x{2}{3}" at "}"'],
      ['[[:foo:]]', 'unknown POSIX class name in "[[:foo:]]" at "foo:]]"'],
      ['\\x{100}', 'character value in \\x{} or \\o{} is too large in "\\x{100}" at "}"'],
      ['(?i', 'unrecognized character after (? or (?- in "(?i"'],
      ['a|*', 'nothing to repeat in "a|*" at "*"'],
      ['^*', 'nothing to repeat in "^*" at "*"'],
      ['\\p{Foo}', 'unknown property name after \\P or \\p in "\\p{Foo}" at "}"'],
    ];
    for (const [pattern, message] of compileErrors) {
      it(`compile error: ${message}`, () => {
        expect(run(`return ngx.re.match("a", ${JSON.stringify(pattern)})`)).toEqual([null, `pcre_compile() failed: ${message}`]);
      });
    }

    it('cuts compile errors to 127 bytes as lua-nginx-module does', () => {
      const [, e] = run('return ngx.re.match("a", string.rep("a", 200) .. ")")');
      expect(e).toBe(`pcre_compile() failed: unmatched parentheses in "${'a'.repeat(200)})`.slice(0, 127));
    });

    it('runs what PCRE runs: recursion, inline options, \\K, DFA longest match', () => {
      expect(show('ngx.re.match("(a(b))", "\\\\((?:[^()]|(?R))*\\\\)")')).toBe('{0="(a(b))"}');
      expect(show('ngx.re.match("aBC", "a(?i)bc"), ngx.re.match("ABC", "a(?i)bc")')).toBe('{0="aBC"}, nil');
      expect(show('ngx.re.match("xabc", "x\\\\Ka(?=b)"), ngx.re.match("ab", "(?=a\\\\K)")')).toBe('{0="a"}, {0=""}');
      expect(show('ngx.re.match("hello", "he|hel|hello", "d"), ngx.re.match("hello", "(h)(e)", "d")')).toBe('{0="hello"}, {0="he"}');
      expect(show('ngx.re.match("abab", "(ab)\\\\1", "d")')).toBe('nil, "pcre_exec() failed: -16"');
    });
  });

  describe('find', () => {
    it('returns byte offsets of the match or of capture nth', () => {
      expect(show('ngx.re.find("hello 1234", "[0-9]+")')).toBe('7, 10');
      expect(show('ngx.re.find("hello 1234", "([0-9])([0-9]+)", nil, nil, 2)')).toBe('8, 10');
      expect(show('ngx.re.find("hello 1234", "([0-9])([0-9]+)", nil, nil, 3)')).toBe('nil, nil, "nth out of bound"');
      expect(show('ngx.re.find("ab", "(a)(z)?b", nil, nil, 2)')).toBe('nil, nil');
      expect(show('ngx.re.find("abc", "")')).toBe('1, 0');
      expect(show('ngx.re.find("abc", "z")')).toBe('nil');
      expect(show('ngx.re.find("abc", "(")')).toBe('nil, nil, "pcre_compile() failed: missing ) in \\"(\\""');
      expect(show('ngx.re.find("héllo", "llo", "u")')).toBe('4, 6');
      expect(show('ngx.re.match(12345, "3"), ngx.re.find(nil, "n")')).toBe('{0="3"}, 1, 1');
    });

    it('ctx.pos: 0 and negatives start at 1, fractions truncate', () => {
      expect(show('(function() local ctx = {pos = 0} return ngx.re.find("abc", "a", nil, ctx), ctx.pos end)()')).toBe('1, 2');
      expect(show('(function() local ctx = {pos = 2.5} local f, t = ngx.re.find("abcabc", "a", nil, ctx) return f, ctx.pos end)()')).toBe('4, 5');
      expect(show('(function() local ctx = {pos = -3} return ngx.re.find("abc", "a", nil, ctx), ctx.pos end)()')).toBe('1, 2');
    });
  });

  describe('sub and gsub', () => {
    it('replace the first or every match and count them', () => {
      expect(show('ngx.re.sub("hello world", "o", "0")')).toBe('"hell0 world", 1');
      expect(show('ngx.re.gsub("hello world", "o", "0")')).toBe('"hell0 w0rld", 2');
      expect(show('ngx.re.gsub("abc", "z", "-")')).toBe('"abc", 0');
      expect(show('ngx.re.gsub("abc", "", "-"), ngx.re.gsub("abc", "x*", "-")')).toBe('"-a-b-c-", "-a-b-c-", 4');
      expect(show('ngx.re.gsub("héllo", ".", "x"), ngx.re.gsub("héllo", ".", "x", "u")')).toBe('"xxxxxx", "xxxxx", 5');
    });

    it('templates: $0, $N, ${N}, $$; unknown groups are empty', () => {
      expect(show('ngx.re.gsub("hello world", "(l+)(o)", "[$0|$1|${2}|$$]")')).toBe('"he[llo|ll|o|$] world", 1');
      expect(show('ngx.re.gsub("hello world", "(l+)", "[$9]")')).toBe('"he[]o wor[]d", 2');
      expect(show('ngx.re.gsub("abcdefghijk", "(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)(k)", "[$10|$11|$1]")')).toBe('"[j|k|a]", 1');
      expect(show('ngx.re.gsub("aaa", "(a)", "${0}x$01"), ngx.re.gsub("aaa", "(a)", "\\\\$1")')).toBe('"axaaxaaxa", "\\\\a\\\\a\\\\a", 3');
    });

    it('bad templates fail with "failed to compile the replacement template"', () => {
      for (const t of ['${x}', '$', '${1', '$a', '${}']) {
        expect(run(`return ngx.re.gsub("hello", "(?<x>l+)", ${JSON.stringify(t)})`)).toEqual([null, null, 'failed to compile the replacement template']);
      }
    });

    it('a function replacement gets the captures table; its result goes through tostring', () => {
      expect(show('ngx.re.gsub("hello world", "([lo])", function(m) return m[1]:upper() end)')).toBe('"heLLO wOrLd", 5');
      expect(show('ngx.re.gsub("hello", "l", function(m) return nil end)')).toBe('"henilnilo", 2');
      expect(show('ngx.re.gsub("hello", "l", function(m) return 7 end)')).toBe('"he77o", 2');
      expect(show('ngx.re.gsub("abc", "(b)|(z)", function(m) return tostring(m[2]) end)')).toBe('"afalsec", 1');
    });

    it('a non-string replacement is converted; compile errors come third', () => {
      expect(show('ngx.re.gsub("abc", "b", 5), ngx.re.gsub("abc", "b", nil)')).toBe('"a5c", "anilc", 1');
      expect(show('ngx.re.gsub("abc", "(", "-")')).toBe('nil, nil, "pcre_compile() failed: missing ) in \\"(\\""');
    });
  });

  describe('gmatch', () => {
    it('iterates over the matches, stepping past empty ones', () => {
      expect(show('(function() local out = {} for m in ngx.re.gmatch("a1b2c3", "[a-z](\\\\d)") do out[#out+1] = m[0] .. "/" .. m[1] end return table.concat(out, ",") end)()')).toBe('"a1/1,b2/2,c3/3"');
      expect(show('(function() local out = {} for m in ngx.re.gmatch("abc", "x*") do out[#out+1] = "<" .. m[0] .. ">" end return table.concat(out, ",") end)()')).toBe('"<>,<>,<>,<>"');
      expect(show('(function() local it = ngx.re.gmatch("a", "a") local a = it() local b = it() local c = it() return a, b, c end)()')).toBe('{0="a"}, nil, nil');
      expect(show('type(ngx.re.gmatch("abc", "a"))')).toBe('"table"');
    });

    it('reports a bad pattern at once', () => {
      expect(show('ngx.re.gmatch("abc", "(")')).toBe('nil, "pcre_compile() failed: missing ) in \\"(\\""');
    });
  });

  describe('require "ngx.re"', () => {
    it('split', () => {
      expect(show('re.split("a,b,c", ",")')).toBe('{1="a",2="b",3="c"}');
      expect(show('re.split("a,b,,c,,", ",")')).toBe('{1="a",2="b",3="",4="c"}');
      expect(show('re.split("a,b,c", ",", nil, nil, 2)')).toBe('{1="a",2="b,c"}');
      expect(show('re.split("a1b2c", "(\\\\d)")')).toBe('{1="a",2="1",3="b",4="2",5="c"}');
      expect(show('re.split("abc", "")')).toBe('{1="a",2="b",3="c"}');
      expect(show('re.split("", ",")')).toBe('{}');
      expect(show('re.split(",a,", ",")')).toBe('{1="",2="a"}');
      expect(show('re.split("a,b,c", ",", nil, {pos = 3})')).toBe('{1="b",2="c"}');
      expect(show('re.split("a,,b", ",*")')).toBe('{1="a",2="a,,",3="b"}');
      expect(show('re.split("a b  c", "\\\\s+", "jo", nil, 0)')).toBe('{1="a",2="b",3="c"}');
      expect(show('re.split("abc", "", nil, nil, 2)')).toBe('{1="a",2="bc"}');
      expect(show('re.split(",,,", ",")')).toBe('{}');
      expect(show('re.split("a,b", ",", nil, nil, -1)')).toBe('{1="a",2="b"}');
      expect(show('(function() local r = {"x","y","z","w"} local t = re.split("a,b", ",", nil, nil, nil, r) return t == r, t end)()')).toBe('true, {1="a",2="b",4="w"}');
    });

    it('split errors', () => {
      expect(show('re.split("a,b", "(")')).toBe('nil, "pcre_compile() failed: missing ) in \\"(\\""');
      expect(show('pcall(re.split, "a,b", ",", nil, nil, nil, "x")')).toBe('false, "res is not a table"');
      expect(show('pcall(re.opt, "foo", 1)')).toBe('false, "unrecognized option name"');
    });
  });

  describe('the match limit', () => {
    const REDOS = '"^(\\\\w+\\\\s?)*$"';
    it('stops the issue\'s ReDoS with pcre_exec() failed: -8 from every API', () => {
      expect(show(`ngx.re.match(string.rep("a", 34) .. "!", ${REDOS}, "jo")`)).toBe('nil, "pcre_exec() failed: -8"');
      expect(show(`ngx.re.find(string.rep("a", 34) .. "!", ${REDOS})`)).toBe('nil, nil, "pcre_exec() failed: -8"');
      expect(show(`ngx.re.gsub(string.rep("a", 34) .. "!", ${REDOS}, "")`)).toBe('nil, nil, "pcre_exec() failed: -8"');
      expect(show(`ngx.re.gmatch(string.rep("a", 34) .. "!", ${REDOS})()`)).toBe('nil, "pcre_exec() failed: -8"');
      expect(show(`re.split(string.rep("a", 34) .. "!", ${REDOS})`)).toBe('nil, "pcre_exec() failed: -8"');
    });

    it('opt("match_limit", n) sets it for the VM; 0 is PCRE\'s default; bad values raise', () => {
      const subject = 'string.rep("a", 16) .. "!"';
      expect(show(`(function() re.opt("match_limit", 100) return ngx.re.match(${subject}, ${REDOS}) end)()`)).toBe('nil, "pcre_exec() failed: -8"');
      expect(show(`(function() ngx.re.opt("match_limit", 0) return ngx.re.match(${subject}, ${REDOS}) end)()`)).toBe('nil');
      expect(show('pcall(re.opt, "match_limit", -1)')).toMatch(/^false, ".*bad argument #2 to 'opt' \(non-negative integer expected, got -1\)"$/);
      expect(show('pcall(re.opt, "match_limit", 1.5)')).toMatch(/non-negative integer expected, got 1.5/);
      run('re.opt("match_limit", 1000000)');
    });

    it('opt("jit_stack_size") is refused once an "o" pattern is cached, as lua-resty-core does', () => {
      run('ngx.re.find("a", "a", "o")');
      expect(show('pcall(re.opt, "jit_stack_size", 65536)')).toBe('false, "changing jit stack size is not allowed when some regexs have already been compiled and cached"');
    });
  });

  it('keeps compiled "o" expressions in a cache owned by the installation', () => {
    expect(run('local n = 0 for i = 1, 3000 do if ngx.re.find("k" .. i, "k" .. i, "o") then n = n + 1 end end return n')).toEqual([3000]);
  });
});

describe('ngx.re.gsub handing back to Lua between batches', () => {
  let vm: LuaVm;
  let ctx: NgxInstall;
  beforeAll(async () => {
    ({ vm, ctx } = await createNgxVm([]));
    installRe(ctx, { gsubSliceMs: 0 });
  });
  afterAll(() => vm.close());

  it('gives the same result as one call', () => {
    const [out, n] = vm.run('local ngx = ... return ngx.re.gsub(string.rep("ab ", 2000), "(a)(b)", "$2$1")', 'test', ctx.ngx);
    expect([out, n]).toEqual(['ba '.repeat(2000), 2000]);
    expect(vm.run('local ngx = ... return ngx.re.gsub(string.rep("x", 600), "", "-")', 'test', ctx.ngx)).toEqual([`-${'x-'.repeat(600)}`, 601]);
    expect(vm.run('local ngx = ... return ngx.re.sub("aaa", "a", "b")', 'test', ctx.ngx)).toEqual(['baa', 1]);
  });
});
