-- LuaJIT's extensions and Lua 5.1 functions that OpenResty libraries use, added to the sandbox
-- once per VM. Runs as trusted code: ... = sandbox, preload, native (JS helpers).
local S, preload, native = ...
local type, next, pairs, rawget, rawset, error, select, tostring, setmetatable, getmetatable =
      type, next, pairs, rawget, rawset, error, select, tostring, setmetatable, getmetatable
local floor, huge, mtype, fmt = math.floor, math.huge, math.type, string.format

local table, math = S.table, S.math
local lua_tostring = tostring

-- table.new(narr, nrec): a table; Lua 5.4 cannot preallocate from Lua, the sizes are hints only.
local function checktab(t, fname)
  if type(t) ~= "table" then
    error("bad argument #1 to '" .. fname .. "' (table expected, got " .. (t == nil and "nil" or type(t)) .. ")", 3)
  end
end
function table.new(narr, nrec)
  if type(narr) ~= "number" then error("bad argument #1 to 'new' (number expected, got " .. type(narr) .. ")", 2) end
  if type(nrec) ~= "number" then error("bad argument #2 to 'new' (number expected, got " .. type(nrec) .. ")", 2) end
  return {}
end
function table.clear(t)
  checktab(t, "clear")
  for k in next, t do rawset(t, k, nil) end
end
function table.nkeys(t)
  checktab(t, "nkeys")
  local n = 0
  for _ in next, t do n = n + 1 end
  return n
end
-- true when every key is a positive integer (holes allowed), and for {} (as LuaJIT answers)
function table.isarray(t)
  checktab(t, "isarray")
  for k in next, t do
    if mtype(k) == nil or k < 1 or (mtype(k) == "float" and k ~= floor(k)) then return false end
  end
  return true
end
function table.isempty(t)
  checktab(t, "isempty")
  return next(t) == nil
end
function table.clone(t)
  checktab(t, "clone")
  local c = {}
  for k, v in next, t do c[k] = v end
  return c
end
function table.getn(t)
  checktab(t, "getn")
  return #t
end
function table.maxn(t)
  checktab(t, "maxn")
  local max = 0
  for k in next, t do
    if type(k) == "number" and k > max then max = k end
  end
  return max
end
for _, name in ipairs({ "new", "clear", "nkeys", "isarray", "isempty", "clone" }) do
  local f = table[name]
  preload["table." .. name] = function() return f end
end

-- Lua 5.1 math functions LuaJIT keeps.
function math.pow(x, y) return x ^ y end
function math.log10(x) return math.log(x, 10) end
function math.ldexp(m, e) return m * 2.0 ^ e end
function math.frexp(x)
  if x == 0 or x ~= x or x == huge or x == -huge then return x, 0 end
  local e = floor(math.log(math.abs(x), 2)) + 1
  local m = x / 2.0 ^ e
  -- correct for rounding of the logarithm near powers of two
  if math.abs(m) >= 1 then m = m / 2; e = e + 1 elseif math.abs(m) < 0.5 then m = m * 2; e = e - 1 end
  return m, e
end

-- newproxy(true | false | proxy): a userdata, with a new metatable, none, or the given proxy's.
-- A __gc put into that metatable later never runs (Lua 5.4 only finalizes what had __gc when its
-- metatable was set; the sandbox runs no finalizers of handler code).
local new_userdata, set_userdata_mt = native.new_userdata, debug.setmetatable
local PROXY_MT = setmetatable({}, { __mode = "k" })
function S.newproxy(arg)
  local ud = new_userdata()
  if arg == true then
    local mt = {}
    set_userdata_mt(ud, mt)
    PROXY_MT[mt] = true
  elseif type(arg) == "userdata" then
    local mt = getmetatable(arg)
    if not PROXY_MT[mt] then error("bad argument #1 to 'newproxy' (boolean or proxy expected)", 2) end
    set_userdata_mt(ud, mt)
  elseif arg ~= nil and arg ~= false then
    error("bad argument #1 to 'newproxy' (boolean or proxy expected)", 2)
  end
  return ud
end

-- The jit table: version facts and no-op controls (there is no JIT compiler here).
local function noop() end
local jit = {
  version = "LuaJIT 2.1.0-beta3", version_num = 20100,
  os = native.os, arch = native.arch,
  on = noop, off = noop, flush = noop,
  status = function() return false end,
  attach = noop, security = function() return 0 end,
  opt = { start = noop },
}
S.jit = jit
preload["jit.opt"] = function() return jit.opt end
preload["jit.util"] = function() return {} end
preload["jit.profile"] = function()
  return { start = noop, stop = noop, dumpstack = function() return "" end }
end

S.bit = preload.bit("bit")

-- tonumber(v, 10) takes any value as LuaJIT does (nil when it is not a number or a numeric
-- string); other bases want a string (or a number, read as its text).
local lua_tonumber = tonumber
function S.tonumber(v, base)
  if base == nil or base == 10 then
    if base == nil or type(v) == "string" then return lua_tonumber(v) end
    if type(v) == "number" then return v end
    return nil
  end
  if type(v) == "number" then v = lua_tostring(v) end
  if type(v) ~= "string" then
    error("bad argument #1 to 'tonumber' (string expected, got " .. (v == nil and "nil" or type(v)) .. ")", 2)
  end
  return lua_tonumber(v, base)
end

-- tostring formats floats as LuaJIT does (tostring(10 / 2) is "5", not "5.0"); the .. operator
-- and string.format("%s") keep Lua 5.4's form.
function S.tostring(v)
  if mtype(v) == "float" then return fmt("%.14g", v) end
  return lua_tostring(v)
end
