// ngx.re on PCRE: the match limit (ReDoS), compile error texts and positions, PCRE-only syntax,
// options u/U/J/d/D/a, byte offsets, the caches, and the errors of the match functions.
import { content } from '../case-helpers.mjs';

const re = (name, lua, requests, extra) => content(`re-pcre: ${name}`, lua, requests, extra);
/** Prints a match table: [0], [1].., named keys sorted; false for an unmatched group. */
const SHOW =
  'local function show(m, e) if not m then ngx.say(tostring(m), " ", tostring(e)) return end local ks = {} for k in pairs(m) do ks[#ks + 1] = k end ' +
  'table.sort(ks, function(a, b) return tostring(a) < tostring(b) end) local out = {} for _, k in ipairs(ks) do local v = m[k] ' +
  'if type(v) == "table" then v = "[" .. table.concat(v, ",") .. "]" end out[#out + 1] = tostring(k) .. "=" .. tostring(v) end ngx.say(table.concat(out, " ")) end ';
/** Prints every value a call returned. */
const ALL = 'local function all(...) local t = {} for i = 1, select("#", ...) do t[i] = tostring((select(i, ...))) end ngx.say(table.concat(t, ", ")) end ';
const REDOS = String.raw`[[^(\w+\s?)*$]]`;
const SLOW_ARG = `${'a'.repeat(34)}!`;

/** Patterns whose compile errors nginx and phasekit word alike; one line per pattern. */
const COMPILE_ERRORS = [
  '(?i', '(?P<1a>x)', '(a)\\2', '\\k<x>', '(?P=x)', '(?<n>a)(?<n>b)', '\\p{Foo}', '(?<n', '(?P<n>a', 'a{2,1}',
  '[z-a]', '(?(1', '(?(1)a|b|c)', '(?C256)', '(*FOO)', 'a(?<=a+)b', '(?2)', '(?-0)', '\\c', '[[:alpha:]',
  '[[.a.]]', '(?#abc', '\\o{8}', '\\x{zz}', '\\N{name}', '\\L', '\\u0041', '(?|(a)|(b))\\3', 'a{65536}',
  '(?<a-b>x)', '(?R', '(?+a)', '(?P>x)', '(*MARK)', '(?(?=a)a|b|c)', '(?(DEFINE)a|b)', 'x++++', 'x{3}{4}',
  '^*', '$*', '\\b*', '(?<x>a)\\k{y}', '[[:foo:]]', 'a)', '\\x{100}', 'a**', '?',
];

export default [
  // the case: a user-controlled subject on a backtracking pattern
  re('the ReDoS of issue 15 ends with the match-limit error', `local m, err = ngx.re.match(ngx.var.arg_name, ${REDOS}, "jo") ngx.say(tostring(m and m[0]), " ", tostring(err))`,
    [{ path: `/?name=${SLOW_ARG}` }, { path: `/?name=${'a'.repeat(34)}` }]),
  re('the ReDoS through find, gmatch, gsub, sub and split', `${ALL}local s = ngx.var.arg_name
all(ngx.re.find(s, ${REDOS}, "jo"))
local it = ngx.re.gmatch(s, ${REDOS}, "jo") all(it())
all(ngx.re.gsub(s, ${REDOS}, "x", "jo"))
all(ngx.re.sub(s, ${REDOS}, function(m) return "x" end, "jo"))
all(require("ngx.re").split(s, ${REDOS}, "jo"))`, [{ path: `/?name=${SLOW_ARG}` }]),
  re('lua_regex_match_limit 1000', `${ALL}all(ngx.re.match(string.rep("a", 20) .. "!", ${REDOS}, "jo"))
all(ngx.re.find(string.rep("a", 20), ${REDOS}))
local m = ngx.re.match("abc abc", [[(\\w+) \\1]]) all(m and m[0], m and m[1])`, [{}], { lua: { regexMatchLimit: 1000 } }),
  re('lua_regex_match_limit 1000 without j', `${ALL}all(ngx.re.match(string.rep("a", 20) .. "!", ${REDOS}))`, [{}], { lua: { regexMatchLimit: 1000 } }),
  re('lua_regex_match_limit 0 is PCRE\'s default', `${ALL}all(ngx.re.match(string.rep("a", 16) .. "!", ${REDOS}))`, [{}], { lua: { regexMatchLimit: 0 } }),
  re('lua_regex_cache_max_entries 0 still runs "o" patterns', `${ALL}for i = 1, 3 do all(ngx.re.find("abc" .. i, "c" .. i, "jo")) end`, [{}], { lua: { regexCacheMaxEntries: 0 } }),
  re('compile error texts and positions', `for _, p in ipairs({ ${COMPILE_ERRORS.map((p) => JSON.stringify(p)).join(', ')} }) do local m, err = ngx.re.match("a", p) ngx.say(p, "  ", tostring(err)) end`),
  re('compile errors: PCRE 8 accepts what PCRE2 refuses', `for _, p in ipairs({ "[\\\\d-z]", "\\\\8", "(*ACCEPT:x)" }) do local m, err = ngx.re.match("a8-", p) ngx.say(p, "  ", tostring(m and m[0]), " ", tostring(err)) end`),
  re('compile errors: \\g without a group number', `for _, p in ipairs({ "\\\\g", "\\\\g{0}", "\\\\g0" }) do local m, err = ngx.re.match("a", p) ngx.say(p, "  ", tostring(err)) end`),
  re('compile errors: invalid UTF-8 in the pattern with u', `${ALL}all(ngx.re.match("a", "\\xff", "u")) all(ngx.re.match("a", "caf\\xc3", "u")) all(ngx.re.match("\\xff", "\\\\xff", "u"))`),
  re('PCRE-only syntax: recursion, inline options, \\K, possessive, atomic, conditionals', `${SHOW}show(ngx.re.match("x(a(b)c)y", [[\\((?:[^()]|(?R))*\\)]]))
show(ngx.re.match("aBC", "a(?i)bc")) show(ngx.re.match("ABC", "a(?i)bc"))
show(ngx.re.match("xabc", [[x\\Ka(?=b)]])) show(ngx.re.match("ab", [[(?=a\\K)]]))
show(ngx.re.match("aaa", "a++a")) show(ngx.re.match("aaab", "(?>a+)b"))
show(ngx.re.match("ab", "(a)?(?(1)b|c)")) show(ngx.re.match("c", "(a)?(?(1)b|c)"))
show(ngx.re.match("abc", "(*LIMIT_MATCH=1)a")) show(ngx.re.match("xy", "(?|(?<n>x)|(?<n>y))"))`),
  re('named captures: (?<n>), (?P<n>), (?\'n\'), D collects duplicates', `${SHOW}show(ngx.re.match("2024-05", [[(?<y>\\d+)-(?P<m>\\d+)]]))
show(ngx.re.match("ab", "(?'x'a)(?'y'b)"))
show(ngx.re.match("foo.bar", [[(?<a>\\w+)\\.(?<a>\\w+)]], "D")) show(ngx.re.match("xy", "(?<n>x)|(?<n>y)", "D"))
show(ngx.re.match("foo.bar", [[(?<a>\\w+)\\.(?<a>\\w+)]]))`),
  re('option d: the longest match, no captures, back references refused', `${SHOW}${ALL}show(ngx.re.match("hello", "he|hel|hello", "d"))
show(ngx.re.match("hello", "(h)(?<n>e)", "d")) all(ngx.re.find("hello", "l+", "d")) all(ngx.re.gsub("aaa", "a*", "-", "d"))
all(ngx.re.match("abab", [[(ab)\\1]], "d"))`),
  re('option J: \\u escapes, unset back references match empty', `${SHOW}show(ngx.re.match("A", [[\\u0041]], "J")) show(ngx.re.match("a", [[(x)?\\1a]], "J")) show(ngx.re.match("a", [[(x)?\\1a]]))`),
  re('options u and U: characters, bad UTF-8, offsets inside a character', `${ALL}${SHOW}show(ngx.re.match("é", "^.$", "u")) show(ngx.re.match("é", "^.$"))
all(ngx.re.match("\\xff", ".", "u")) show(ngx.re.match("\\xffa", "a", "U"))
all(ngx.re.match("é", "(?<x>.)", "u", { pos = 2 })) all(ngx.re.gsub("héllo", "", "-", "u"))
show(ngx.re.match("ÉCOLE", "école", "iu")) show(ngx.re.match("ÉCOLE", "école", "i"))`),
  re('byte offsets: find, ctx.pos and gmatch count bytes', `${ALL}all(ngx.re.find("héllo wörld", "w.r"))
local ctx = {} all(ngx.re.find("héllo wörld", "l+", "u", ctx)) all(ctx.pos) all(ngx.re.find("héllo wörld", "l+", "u", ctx)) all(ctx.pos)
for m in ngx.re.gmatch("aé b", [[\\S+]]) do all(#m[0]) end`),
  re('ctx.pos past the end of the subject', `${ALL}all(ngx.re.match("abc", "c", "", { pos = 4 })) all(ngx.re.match("abc", "c", "", { pos = 5 })) all(ngx.re.find("abc", "$", "", { pos = 4 }))`),
  re('option a anchors every search of gsub and gmatch', `${ALL}all(ngx.re.gsub("aab", "a", "x", "a")) all(ngx.re.gsub("baa", "a", "x", "a"))
local n = 0 for m in ngx.re.gmatch("aaba", "a", "a") do n = n + 1 end all(n)`),
  re('sub and gsub: templates, function replacements, long subjects', `${ALL}all(ngx.re.gsub("hello", "l", "\${0}$0$$"))
all(ngx.re.gsub("hello", "(?<x>l)", "$x")) all(ngx.re.gsub("hello", "l", "\${1}"))
all(#ngx.re.gsub(string.rep("ab ", 20000), [[\\w+]], "xyz", "jo"))
local n = 0 all(#ngx.re.gsub(string.rep("ab ", 5000), [[\\w+]], function(m) n = n + 1 return m[0]:upper() end, "jo")) all(n)
all(ngx.re.sub("a.b.c", [[\\.]], "$$"))`),
  re('gmatch over many matches and split on a long subject', `${ALL}local n, len = 0, 0 for m in ngx.re.gmatch(string.rep("k=v;", 5000), [[(\\w)=(\\w)]]) do n = n + 1 len = len + #m[1] end all(n, len)
local t = require("ngx.re").split(string.rep("a,", 3000) .. "z", ",") all(#t, t[1], t[3001])`),
  re('opt: jit_stack_size before and after a cached pattern', `${ALL}local re = require "ngx.re"
all(pcall(re.opt, "jit_stack_size", 128 * 1024))
ngx.re.find("abc", "b", "o")
local ok, err = pcall(re.opt, "jit_stack_size", 128 * 1024) ngx.say(ok, " ", (tostring(err):gsub("^.-:%d+: ", "")))
all(pcall(re.opt, "nope", 1))`),
];
