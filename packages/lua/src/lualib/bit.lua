-- LuaJIT's bit module (LuaBitOp): every result is a signed 32-bit integer, arguments are
-- normalised like bit.tobit (modulo 2^32, non-integral numbers rounded half to even), and shift
-- counts are taken modulo 32.
local type, tonumber, error, select = type, tonumber, error, select
local floor, fmod, mtype, fmt = math.floor, math.fmod, math.type, string.format

local TWO32 = 4294967296

local getinfo = debug.getinfo

-- named as the caller called the function ('?' through pcall), placed at the caller's line
local function argerror(i, v)
  local info = getinfo(3, "n")
  local name = info and info.name or "?"
  error("bad argument #" .. i .. " to '" .. name .. "' (number expected, got " .. (v == nil and "no value" or type(v)) .. ")", 4)
end

-- x (a number) as an integer in [0, 2^32)
local function u32(x, i, fname)
  if mtype(x) == "integer" then return x & 0xffffffff end
  if type(x) ~= "number" then
    local n = type(x) == "string" and tonumber(x) or nil
    if n == nil then argerror(i, x) end
    x = n
    if mtype(x) == "integer" then return x & 0xffffffff end
  end
  if x ~= x or x == 1 / 0 or x == -1 / 0 then return 0 end
  -- round half to even, as LuaJIT's 2^52 + 2^51 addition does
  local f = floor(x)
  local d = x - f
  if d > 0.5 or (d == 0.5 and fmod(f, 2) ~= 0) then f = f + 1 end
  f = fmod(f, TWO32)
  if f < 0 then f = f + TWO32 end
  return floor(f) & 0xffffffff
end

-- [0, 2^32) to signed 32-bit
local function s32(u)
  if u >= 0x80000000 then return u - 0x100000000 end
  return u
end

local bit = {}

function bit.tobit(x) return s32(u32(x, 1, "tobit")) end

function bit.bnot(x) return s32(~u32(x, 1, "bnot") & 0xffffffff) end

local function reducer(fname, op)
  return function(x, ...)
    local r = u32(x, 1, fname)
    for i = 1, select("#", ...) do
      r = op(r, u32((select(i, ...)), i + 1, fname))
    end
    return s32(r)
  end
end
bit.band = reducer("band", function(a, b) return a & b end)
bit.bor = reducer("bor", function(a, b) return a | b end)
bit.bxor = reducer("bxor", function(a, b) return a ~ b end)

function bit.lshift(x, n)
  return s32((u32(x, 1, "lshift") << (u32(n, 2, "lshift") & 31)) & 0xffffffff)
end
function bit.rshift(x, n)
  return s32(u32(x, 1, "rshift") >> (u32(n, 2, "rshift") & 31))
end
function bit.arshift(x, n)
  local v = s32(u32(x, 1, "arshift"))
  -- floor division of the signed value is an arithmetic shift
  return v // (1 << (u32(n, 2, "arshift") & 31))
end
function bit.rol(x, n)
  local v, s = u32(x, 1, "rol"), u32(n, 2, "rol") & 31
  return s32(((v << s) | (v >> (32 - s))) & 0xffffffff)
end
function bit.ror(x, n)
  local v, s = u32(x, 1, "ror"), u32(n, 2, "ror") & 31
  return s32(((v >> s) | (v << (32 - s))) & 0xffffffff)
end
function bit.bswap(x)
  local v = u32(x, 1, "bswap")
  return s32(((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >> 8) & 0xff00) | (v >> 24))
end

-- tohex(x [, n]): |n| hex digits (default 8, at most 16: the value sign-extended to 64 bits),
-- upper case when n < 0
function bit.tohex(x, n)
  local v = s32(u32(x, 1, "tohex"))
  local digits, f = 8, "%016x"
  if n ~= nil then
    digits = s32(u32(n, 2, "tohex"))
    if digits < 0 then
      digits = -digits
      f = "%016X"
    end
    if digits > 16 then digits = 16 end
  end
  return fmt(f, v):sub(17 - digits)
end

return bit
