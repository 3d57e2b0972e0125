// LuaJIT's extensions and Lua 5.1 functions OpenResty libraries use: bit (LuaBitOp), the
// table.* helpers, jit, string.buffer, newproxy, 5.1 globals, package.loaded, and the ffi subset
// phasekit emulates (byte arrays, structs, casts, ffi.C helpers).
import { content } from '../case-helpers.mjs';

const j = (name, lua) => content(`luajit: ${name}`, lua);

export default [
  j('bit results are signed 32-bit', String.raw`local bit = require "bit"
ngx.say(bit.tobit(0xffffffff), " ", bit.tobit(2^32 + 7), " ", bit.tobit(-3), " ", bit.tobit(2^40 + 2^31))
ngx.say(bit.bnot(0), " ", bit.bnot(-1), " ", bit.bnot(0x7fffffff))
ngx.say(bit.band(0xf0f0f0f0, 0xff00ff00), " ", bit.bor(1, 2, 4, 8), " ", bit.bxor(0xffffffff, 0x0f, 0xf0))
ngx.say(bit.band(-1, 0x80000000), " ", bit.bor(0x80000000, 0), " ", bit.band())`),
  j('bit shifts and rotations', String.raw`local bit = require "bit"
ngx.say(bit.lshift(1, 31), " ", bit.lshift(1, 32), " ", bit.lshift(3, 33), " ", bit.lshift(0xff, 28))
ngx.say(bit.rshift(-1, 28), " ", bit.rshift(0x80000000, 31), " ", bit.rshift(1024, 36))
ngx.say(bit.arshift(-256, 4), " ", bit.arshift(0x80000000, 31), " ", bit.arshift(256, 4))
ngx.say(bit.rol(0x12345678, 8), " ", bit.ror(0x12345678, 8), " ", bit.rol(1, 32), " ", bit.bswap(0x11223344))`),
  j('bit.tohex', String.raw`local bit = require "bit"
ngx.say(bit.tohex(255), " ", bit.tohex(-1), " ", bit.tohex(255, 2), " ", bit.tohex(255, -4), " ", bit.tohex(0x12345678, 3), " ", bit.tohex(1, 12))`),
  j('bit rounds non-integral arguments half to even', String.raw`local bit = require "bit"
ngx.say(bit.tobit(1.5), " ", bit.tobit(2.5), " ", bit.tobit(-1.5), " ", bit.band(3.7, 7), " ", bit.bor(2^31, 0))`),
  j('bit is a global and a module', String.raw`ngx.say(type(bit), " ", require("bit") == bit, " ", package.loaded.bit == bit)`),
  j('bit with a bad argument', String.raw`local bit = require "bit"
local ok, err = pcall(bit.band, {}, 1)
ngx.say(ok, " ", err)
ok, err = pcall(function() return bit.bor(1, "x") end)
ngx.say(ok, " ", err)`),
  j('table.new and table.clear', String.raw`local new_tab = require "table.new"
local clear_tab = require "table.clear"
local t = new_tab(4, 2)
ngx.say(type(t), " ", next(t) == nil)
t[1] = "a"; t.k = "v"
clear_tab(t)
ngx.say(next(t) == nil, " ", type(table.new), " ", type(table.clear))`),
  j('table.nkeys, isarray, isempty, clone', String.raw`local nkeys = require "table.nkeys"
local isarray, isempty, clone = require "table.isarray", require "table.isempty", require "table.clone"
ngx.say(nkeys({}), " ", nkeys({ 1, 2, 3 }), " ", nkeys({ 1, x = 2, [5] = 3 }))
ngx.say(tostring(isarray({})), " ", tostring(isarray({ 1, 2 })), " ", tostring(isarray({ [1] = 1, [4] = 4 })), " ", tostring(isarray({ 1, x = 1 })))
ngx.say(tostring(isempty({})), " ", tostring(isempty({ false })))
local inner = {}
local c = clone({ 1, inner, k = "v" })
ngx.say(c[1], " ", c[2] == inner, " ", c.k, " ", #c)`),
  j('jit table', String.raw`ngx.say(type(jit), " ", type(jit.version), " ", jit.version:match("^LuaJIT 2%.1") ~= nil, " ", type(jit.version_num))
ngx.say(jit.os, " ", jit.arch, " ", type(jit.on), " ", type(jit.off), " ", type(jit.flush), " ", type(jit.opt.start))
ngx.say(pcall(require, "jit.util") and "jit.util loads")`),
  j('string.buffer put, get, tostring, reset', String.raw`local buffer = require "string.buffer"
local buf = buffer.new()
buf:put("a", 1, "b", 2.5):putf("[%d]", 7)
ngx.say(buf:tostring(), " ", #buf)
ngx.say(buf:get(3), " ", buf:get(), " ", #buf)
buf:set("hello world"):skip(6)
ngx.say(tostring(buf), " ", buf:get(2), " ", buf:tostring())
buf:reset()
ngx.say("[", buf:tostring(), "] ", #buf)`),
  j('string.buffer encode and decode', String.raw`local buffer = require "string.buffer"
local v = buffer.decode(buffer.encode({ n = 1, s = "x", t = { true, false }, f = 1.5 }))
ngx.say(v.n, " ", v.s, " ", tostring(v.t[1]), " ", tostring(v.t[2]), " ", v.f)
local ok, err = pcall(buffer.decode, "\255garbage")
ngx.say(ok, " ", err)`),
  j('Lua 5.1 functions', String.raw`ngx.say(type(unpack), " ", type(loadstring), " ", loadstring("return 1 + 1")())
ngx.say(type(setfenv), " ", type(getfenv), " ", type(newproxy), " ", type(newproxy(true)), " ", type(getmetatable(newproxy(true))))
ngx.say(math.pow(2, 10), " ", type(math.log10), " ", type(table.getn), " ", table.maxn({ 1, [7] = 1 }))`),
  j('setfenv and getfenv of a function', String.raw`local function f() return x end
setfenv(f, { x = "from env" })
ngx.say(f(), " ", getfenv(f).x, " ", getfenv(0) == _G)`),
  j('tostring of integral floats', String.raw`ngx.say(tostring(10 / 2), " ", tostring(2 ^ 3), " ", tostring(1.5), " ", tostring(-0.0), " ", tostring(1e15), " ", tostring(1e100))`),
  j('tonumber with base 10 takes any value', String.raw`ngx.say(tostring(tonumber(nil, 10)), " ", tostring(tonumber({}, 10)), " ", tonumber("12", 10), " ", tonumber(7, 10), " ", tonumber("ff", 16))`),
  j('package.loaded holds the standard libraries', String.raw`ngx.say(require("math") == math, " ", require("string") == string, " ", require("table") == table, " ", package.loaded._G == _G, " ", require("os") == os)`),
  j('ffi byte arrays', String.raw`local ffi = require "ffi"
local buf = ffi.new("unsigned char[?]", 8)
ffi.copy(buf, "abcdefgh", 8)
ngx.say(ffi.string(buf, 8), " ", ffi.string(buf + 2, 3), " ", buf[0], " ", buf[7])
ffi.fill(buf, 3, 65)
ngx.say(ffi.string(buf, 8), " ", ffi.sizeof(buf), " ", ffi.sizeof("int"), " ", ffi.sizeof("uint64_t"), " ", ffi.sizeof("char[?]", 5))
local T = ffi.typeof("uint8_t[?]")
local b = T(4, { 1, 2, 3, 4 })
ngx.say(b[3], " ", ffi.istype(T, b), " ", ffi.istype("int[1]", b))
local i = ffi.new("int[2]", 7)
i[1] = -5
ngx.say(tonumber(i[0]), " ", tonumber(i[1]))`),
  j('ffi structs', String.raw`local ffi = require "ffi"
ffi.cdef[[ struct case_rec { unsigned long excess; uint64_t last; }; typedef struct { double x; int32_t y; uint8_t f; } case_pt; ]]
local rec = ffi.new("struct case_rec")
rec.excess = 1500; rec.last = 1700000000123
local s = ffi.string(rec, ffi.sizeof("struct case_rec"))
local back = ffi.cast("const struct case_rec*", s)
ngx.say(#s, " ", tonumber(back.excess), " ", tonumber(back.last))
local pt = ffi.new("case_pt", { 1.5, -2, 300 })
ngx.say(pt.x, " ", pt.y, " ", pt.f, " ", ffi.sizeof("case_pt"), " ", ffi.offsetof("case_pt", "y"))
local arr = ffi.new("case_pt[?]", 3)
arr[2].y = 9
ngx.say(arr[2].y, " ", arr[0].y)`),
  j('ffi casts and null', String.raw`local ffi = require "ffi"
local p = ffi.cast("const char *", "hello")
ngx.say(ffi.string(p, 3), " ", ffi.string(p), " ", p[1])
ngx.say(tonumber(ffi.cast("uint8_t", 300)), " ", tonumber(ffi.cast("int8_t", 200)), " ", tonumber(ffi.cast("int32_t", 2^31)), " ", ffi.cast("void *", 0) == nil, " ", ffi.null == nil)
ngx.say(type(tonumber(ffi.cast("uintptr_t", ffi.new("char[1]")))))`),
  j('ffi.C inet_pton and ntohl', String.raw`local ffi = require "ffi"
ffi.cdef[[ int inet_pton(int af, const char *src, void *dst); uint32_t ntohl(uint32_t netlong); ]]
local C = ffi.C
local v4 = ffi.new("unsigned int [1]")
ngx.say(C.inet_pton(2, "192.168.1.10", v4), " ", C.ntohl(v4[0]), " ", C.inet_pton(2, "300.1.1.1", v4))
local v6 = ffi.new("unsigned int [4]")
ngx.say(C.inet_pton(10, "2001:db8::ff00:42:8329", v6), " ", C.ntohl(v6[0]), " ", C.ntohl(v6[3]), " ", C.inet_pton(10, "::ffff:1.2.3.4", v6), " ", C.ntohl(v6[3]))`),
  j('ffi.C symbol without a declaration', String.raw`local ffi = require "ffi"
local ok, err = pcall(function() return ffi.C.case_never_declared end)
ngx.say(ok, " ", err)`),
  j('ffi os, arch, abi', String.raw`local ffi = require "ffi"
ngx.say(ffi.os, " ", ffi.arch, " ", ffi.abi("64bit"), " ", ffi.abi("le"), " ", ffi.abi("be"), " ", type(ffi.errno()))`),
];
