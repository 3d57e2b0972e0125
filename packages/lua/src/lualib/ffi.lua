-- phasekit's ffi: the part of LuaJIT's FFI that pure-Lua OpenResty libraries use, on Lua 5.4.
-- Memory is emulated: a cdata is a Lua table pointing into a block of bytes (or into a Lua
-- string, read-only, after ffi.cast of a string). Covered: ffi.cdef (declarations, structs,
-- unions, enums, typedefs), ffi.new / typeof / sizeof / offsetof / istype / cast / metatype of
-- scalars, pointers, arrays (also "[?]") and structs, ffi.string / copy / fill, ffi.C functions
-- listed in phasekit.ffi.clib, ffi.os / arch / abi / errno / gc. No native code can be called:
-- anything else raises an error naming the symbol or type.
local type, error, tostring, tonumber, setmetatable, getmetatable, rawget, select, pairs, ipairs =
      type, error, tostring, tonumber, setmetatable, getmetatable, rawget, select, pairs, ipairs
local byte, char, sub, fmt, spack, sunpack, concat = string.byte, string.char, string.sub, string.format, string.pack, string.unpack, table.concat
local floor, ceil, mtype = math.floor, math.ceil, math.type
local native = select(2, ...)
local cparse = require "phasekit.ffi.cparse"

local ffi = {}
local state = cparse.new_state()
local ptr_of, array_of = cparse.ptr, cparse.array

-- memory blocks --------------------------------------------------------------------------
local next_addr = 0x10000
local function block(size, str)
  local base = next_addr
  next_addr = next_addr + ((size > 0 and size or 1) + 15) // 16 * 16
  return { b = str == nil and {} or nil, s = str, size = size, base = base, ptrs = nil }
end

local function rbyte(blk, i)
  local s = blk.s
  if s then return byte(s, i + 1) or 0 end
  if blk.b == nil then error("attempt to read from a raw address (phasekit's ffi emulates memory)", 3) end
  return blk.b[i] or 0
end

local function wbyte(blk, i, v)
  local b = blk.b
  if b == nil then error("attempt to write to constant location", 3) end
  b[i] = v
end

local CDATA = {}   -- metatable of plain cdata; metatype'd structs get their own (see mt_for)
local function is_cdata(v)
  local mt = getmetatable(v)
  return mt ~= nil and rawget(mt, "__cdata") == true
end
ffi._is_cdata = is_cdata

local mt_for
local function cdata(blk, off, ct)
  return setmetatable({ blk = blk, off = off, ct = ct }, mt_for(ct))
end

local function resolve(ct, where)
  if type(ct) == "string" then return cparse.parse_type(state, ct) end
  if type(ct) == "table" then
    local c = rawget(ct, "__ctype")
    if c then return c end
    if is_cdata(ct) then return ct.ct end
  end
  error("bad argument #1 to '" .. where .. "' (C type expected, got " .. type(ct) .. ")", 3)
end

-- scalar reads and writes --------------------------------------------------------------
local function to_int(v, ct)
  if type(v) == "boolean" then v = v and 1 or 0 end
  if type(v) ~= "number" then
    if is_cdata(v) then return v.blk.base + v.off end
    if v == nil then return 0 end
    error("cannot convert '" .. type(v) .. "' to '" .. ct.name .. "'", 4)
  end
  if mtype(v) == "float" then
    if v ~= v then return 0 end
    v = v >= 0 and floor(v) or ceil(v)
    if v >= 2 ^ 63 or v < -2 ^ 63 then v = math.fmod(v, 2 ^ 64) end
    v = math.tointeger(v) or 0
  end
  return v
end

local function read(blk, off, ct)
  local kind = ct.kind
  if kind == "int" then
    local size = ct.size
    if size == 1 then
      local v = rbyte(blk, off)
      if ct.signed and v >= 128 then v = v - 256 end
      return v
    end
    local v = 0
    for i = size - 1, 0, -1 do v = (v << 8) | rbyte(blk, off + i) end
    if ct.signed and size < 8 and v >= (1 << (size * 8 - 1)) then v = v - (1 << (size * 8)) end
    return v
  elseif kind == "float" then
    local size = ct.size
    local t = {}
    for i = 1, size do t[i] = rbyte(blk, off + i - 1) end
    return (sunpack(size == 4 and "<f" or "<d", char(table.unpack(t))))
  elseif kind == "bool" then
    return rbyte(blk, off) ~= 0
  elseif kind == "ptr" then
    local p = blk.ptrs and blk.ptrs[off]
    return p
  end
  return cdata(blk, off, ct)
end

local function write_bytes(blk, off, s)
  local b = blk.b
  if b == nil then error("attempt to write to constant location", 3) end
  for i = 1, #s do b[off + i - 1] = byte(s, i) end
end

local function string_pointer(s)
  local blk = block(#s + 1, s .. "\0")
  return cdata(blk, 0, ptr_of(cparse.CHAR))
end

local init_value
local function write(blk, off, ct, v)
  local kind = ct.kind
  if kind == "int" then
    v = to_int(v, ct)
    local b = blk.b
    if b == nil then error("attempt to write to constant location", 3) end
    for i = 0, ct.size - 1 do
      b[off + i] = v & 0xff
      v = v >> 8
    end
  elseif kind == "float" then
    if type(v) ~= "number" then error("cannot convert '" .. type(v) .. "' to '" .. ct.name .. "'", 3) end
    write_bytes(blk, off, spack(ct.size == 4 and "<f" or "<d", v))
  elseif kind == "bool" then
    wbyte(blk, off, (v and v ~= 0) and 1 or 0)
  elseif kind == "ptr" then
    if type(v) == "string" then v = string_pointer(v) end
    if v ~= nil and not is_cdata(v) then
      if v == 0 then v = nil else error("cannot convert '" .. type(v) .. "' to '" .. ct.name .. "'", 3) end
    end
    blk.ptrs = blk.ptrs or {}
    blk.ptrs[off] = v
  else
    init_value(blk, off, ct, v)
  end
end

-- copies a struct/array value (cdata) or initialises from a table
function init_value(blk, off, ct, v)
  if v == nil then return end
  if is_cdata(v) then
    local src, soff = v.blk, v.off
    for i = 0, (ct.size or 0) - 1 do
      local x = rbyte(src, soff + i)
      if x ~= 0 or blk.b[off + i] then blk.b[off + i] = x end
    end
    if src.ptrs then
      blk.ptrs = blk.ptrs or {}
      for k, p in pairs(src.ptrs) do
        if k >= soff and k < soff + ct.size then blk.ptrs[off + k - soff] = p end
      end
    end
    return
  end
  if ct.kind == "array" then
    local elem, n = ct.elem, ct.n or 0
    if type(v) == "table" then
      local start = rawget(v, 0) ~= nil and 0 or 1
      for i = 0, n - 1 do
        local x = v[i + start]
        if x == nil then break end
        write(blk, off + i * elem.size, elem, x)
      end
    elseif type(v) == "string" and elem.size == 1 then
      write_bytes(blk, off, sub(v, 1, n))
    else
      for i = 0, n - 1 do write(blk, off + i * elem.size, elem, v) end
    end
  elseif ct.kind == "struct" then
    if type(v) ~= "table" then error("cannot convert '" .. type(v) .. "' to '" .. ct.name .. "'", 4) end
    for i, f in ipairs(ct.fields) do
      local x = v[f.name]
      if x == nil then x = v[i] end
      if x ~= nil then write(blk, off + f.offset, f.ct, x) end
    end
  else
    write(blk, off, ct, v)
  end
end

-- cdata access ---------------------------------------------------------------------------
local function elem_of(ct)
  if ct.kind == "ptr" then return ct.to end
  if ct.kind == "array" then return ct.elem end
  return nil
end

local function field(ct, k, verb)
  local s = ct.kind == "ptr" and ct.to or ct
  local f = s.kind == "struct" and s.byname[k]
  if not f then
    error(fmt("'%s' has no member named '%s'", s.name, tostring(k)), 3)
  end
  return f
end

local function index(cd, k)
  local ct = cd.ct
  if type(k) == "number" then
    local e = elem_of(ct)
    if e == nil then error(fmt("'%s' cannot be indexed with a number", ct.name), 2) end
    return read(cd.blk, cd.off + to_int(k, ct) * e.size, e)
  end
  local s = ct.kind == "ptr" and ct.to or ct
  local f = s.kind == "struct" and s.byname[k]
  if f then return read(cd.blk, cd.off + f.offset, f.ct) end
  local meta = s.metatype
  if meta then
    local ix = meta.__index
    if type(ix) == "table" then return ix[k] end
    if type(ix) == "function" then return ix(cd, k) end
  end
  error(fmt("'%s' has no member named '%s'", s.name, tostring(k)), 2)
end

local function newindex(cd, k, v)
  local ct = cd.ct
  if type(k) == "number" then
    local e = elem_of(ct)
    if e == nil then error(fmt("'%s' cannot be indexed with a number", ct.name), 2) end
    return write(cd.blk, cd.off + to_int(k, ct) * e.size, e, v)
  end
  local s = ct.kind == "ptr" and ct.to or ct
  local f = s.kind == "struct" and s.byname[k]
  if f then return write(cd.blk, cd.off + f.offset, f.ct, v) end
  local meta = s.metatype
  if meta and meta.__newindex then return meta.__newindex(cd, k, v) end
  error(fmt("'%s' has no member named '%s'", s.name, tostring(k)), 2)
end

local function address(cd) return cd.blk.base + cd.off end

local function add(a, n)
  if not is_cdata(a) then a, n = n, a end
  local e = elem_of(a.ct)
  if e == nil or type(n) ~= "number" then error("attempt to perform arithmetic on a '" .. a.ct.name .. "' value", 2) end
  return cdata(a.blk, a.off + to_int(n, a.ct) * e.size, ptr_of(e))
end

local function subtract(a, b)
  if is_cdata(b) then
    local e = elem_of(a.ct)
    return (address(a) - address(b)) // ((e and e.size > 0) and e.size or 1)
  end
  return add(a, -b)
end

local function mt_base()
  return {
    __cdata = true,
    __index = index, __newindex = newindex,
    __add = add, __sub = subtract,
    __eq = function(a, b)
      if not (is_cdata(a) and is_cdata(b)) then return false end
      return address(a) == address(b)
    end,
    __lt = function(a, b) return address(a) < address(b) end,
    __le = function(a, b) return address(a) <= address(b) end,
    __len = function(cd)
      if cd.ct.kind == "array" and cd.ct.n then return cd.ct.n end
      error("attempt to get length of a '" .. cd.ct.name .. "' value", 2)
    end,
    __tostring = function(cd) return fmt("cdata<%s>: 0x%08x", cd.ct.name, address(cd)) end,
  }
end
for k, v in pairs(mt_base()) do CDATA[k] = v end

local META = setmetatable({}, { __mode = "k" })
function mt_for(ct)
  local s = ct.kind == "ptr" and ct.to or ct
  local meta = s and s.metatype
  if meta == nil then return CDATA end
  local mt = META[ct]
  if mt == nil then
    mt = mt_base()
    for k, v in pairs(meta) do
      if k ~= "__index" and k ~= "__newindex" and k ~= "__gc" then mt[k] = v end
    end
    META[ct] = mt
  end
  return mt
end

-- ctype objects --------------------------------------------------------------------------
local CTYPE = { __name = "ctype" }
local CTYPES = setmetatable({}, { __mode = "k" })
local function ctype_object(ct)
  local o = CTYPES[ct]
  if o == nil then
    o = setmetatable({ __ctype = ct }, CTYPE)
    CTYPES[ct] = o
  end
  return o
end
CTYPE.__call = function(self, ...) return ffi.new(self, ...) end
CTYPE.__tostring = function(self) return "ctype<" .. self.__ctype.name .. ">" end
CTYPE.__index = function(self, k)
  local meta = self.__ctype.metatype
  local ix = meta and meta.__index
  if type(ix) == "table" then return ix[k] end
  return nil
end

-- the API --------------------------------------------------------------------------------
function ffi.cdef(text)
  if type(text) ~= "string" then error("bad argument #1 to 'cdef' (string expected, got " .. type(text) .. ")", 2) end
  cparse.cdef(state, text)
  state.cache = {}
end

function ffi.typeof(ct, ...)
  return ctype_object(resolve(ct, "typeof"))
end

function ffi.new(ct, ...)
  ct = resolve(ct, "new")
  local kind = ct.kind
  if kind == "int" or kind == "float" then
    local v = ...
    if kind == "int" then return to_int(v, ct) end
    return v or 0
  elseif kind == "bool" then
    return (...) and true or false
  elseif kind == "ptr" then
    local v = ...
    if is_cdata(v) then return cdata(v.blk, v.off, ct) end
    return nil
  elseif kind == "void" then
    error("cannot allocate a 'void' value", 2)
  end
  local nargs = select("#", ...)
  local first = 1
  if kind == "array" and ct.n == nil then
    local n = ...
    if type(n) ~= "number" then error("bad argument #2 to 'new' (size expected for '" .. ct.name .. "')", 2) end
    ct = array_of(ct.elem, floor(n))
    first = 2
  end
  if kind == "struct" and not ct.complete then error("cannot allocate an incomplete '" .. ct.name .. "'", 2) end
  local blk = block(ct.size)
  local cd = cdata(blk, 0, ct)
  if nargs >= first then
    if nargs == first then
      init_value(blk, 0, ct, (select(first, ...)))
    else
      init_value(blk, 0, ct, { select(first, ...) })
    end
  end
  return cd
end

function ffi.sizeof(ct, n)
  if is_cdata(ct) then return ct.ct.size end
  ct = resolve(ct, "sizeof")
  if ct.kind == "array" and ct.n == nil then
    if n == nil then return nil end
    return ct.elem.size * n
  end
  return ct.size
end

function ffi.alignof(ct) return resolve(ct, "alignof").align end

function ffi.offsetof(ct, name)
  ct = resolve(ct, "offsetof")
  local f = ct.kind == "struct" and ct.byname[name]
  if f then return f.offset end
  return nil
end

function ffi.istype(ct, v)
  if not is_cdata(v) then return false end
  ct = resolve(ct, "istype")
  local vt = v.ct
  if vt == ct then return true end
  if ct.kind == "array" and vt.kind == "array" then return ct.elem == vt.elem end
  if ct.kind == "ptr" and vt.kind == "ptr" then return ct.to == vt.to end
  return false
end

function ffi.cast(ct, v)
  ct = resolve(ct, "cast")
  local kind = ct.kind
  if kind == "ptr" or kind == "array" then
    if type(v) == "string" then
      local blk = block(#v + 1, v .. "\0")
      return cdata(blk, 0, kind == "ptr" and ct or ptr_of(ct.elem))
    end
    if is_cdata(v) then return cdata(v.blk, v.off, kind == "ptr" and ct or ptr_of(ct.elem)) end
    if v == nil or v == 0 then return nil end
    if type(v) == "number" then return cdata({ size = 0, base = to_int(v, ct) }, 0, ct) end
    error("cannot convert '" .. type(v) .. "' to '" .. ct.name .. "'", 2)
  elseif kind == "int" then
    v = to_int(v, ct)
    local size = ct.size
    if size < 8 then
      local mask = (1 << (size * 8)) - 1
      v = v & mask
      if ct.signed and v >= (1 << (size * 8 - 1)) then v = v - (1 << (size * 8)) end
    end
    return v
  elseif kind == "float" then
    if is_cdata(v) then return address(v) + 0.0 end
    return tonumber(v) or error("cannot convert '" .. type(v) .. "' to '" .. ct.name .. "'", 2)
  elseif kind == "bool" then
    return v ~= nil and v ~= false and v ~= 0
  end
  error("cannot convert to '" .. ct.name .. "'", 2)
end

function ffi.metatype(ct, mt)
  ct = resolve(ct, "metatype")
  if ct.kind ~= "struct" then error("bad argument #1 to 'metatype' (struct expected, got '" .. ct.name .. "')", 2) end
  if ct.metatype then error("cannot change a protected metatable", 2) end
  ct.metatype = mt
  return ctype_object(ct)
end

-- finalizers of cdata are not run (the sandbox runs no finalizers of handler code)
function ffi.gc(cd, fn) return cd end

-- the bytes at a cdata (or a string) as a Lua string
local function bytes(p, len, fname)
  if type(p) == "string" then
    if len == nil then return p end
    return sub(p, 1, len)
  end
  if not is_cdata(p) then
    if p == nil then error("bad argument #1 to '" .. fname .. "' (cannot convert 'nil' to 'const char *')", 3) end
    error("bad argument #1 to '" .. fname .. "' (cannot convert '" .. type(p) .. "' to 'const char *')", 3)
  end
  local blk, off = p.blk, p.off
  if len == nil then
    len = 0
    while rbyte(blk, off + len) ~= 0 do len = len + 1 end
  end
  len = to_int(len, cparse.CHAR)
  if blk.s then
    local s = sub(blk.s, off + 1, off + len)
    if #s < len then s = s .. string.rep("\0", len - #s) end
    return s
  end
  local b = blk.b
  if b == nil then error("attempt to read from a raw address (phasekit's ffi emulates memory)", 3) end
  local out, chunk, n = {}, {}, 0
  for i = 0, len - 1 do
    n = n + 1
    chunk[n] = b[off + i] or 0
    if n == 1024 then
      out[#out + 1] = char(table.unpack(chunk, 1, n))
      n = 0
    end
  end
  if n > 0 then out[#out + 1] = char(table.unpack(chunk, 1, n)) end
  return concat(out)
end
ffi._bytes = bytes

function ffi.string(p, len)
  return bytes(p, len, "string")
end

-- writes the bytes of s at cdata dst
local function put_bytes(dst, s)
  if not is_cdata(dst) then error("bad argument #1 (cannot convert '" .. type(dst) .. "' to 'void *')", 3) end
  write_bytes(dst.blk, dst.off, s)
end
ffi._put_bytes = put_bytes

function ffi.copy(dst, src, len)
  local s
  if type(src) == "string" then
    if len == nil then s = src .. "\0" else s = sub(src, 1, len) end
    if #s < (len or 0) then s = s .. string.rep("\0", len - #s) end
  else
    s = bytes(src, len, "copy")
  end
  put_bytes(dst, s)
end

function ffi.fill(dst, len, c)
  if not is_cdata(dst) then error("bad argument #1 to 'fill' (cannot convert '" .. type(dst) .. "' to 'void *')", 2) end
  local b = dst.blk.b
  if b == nil then error("attempt to write to constant location", 2) end
  c = (c or 0) & 0xff
  local off = dst.off
  for i = 0, len - 1 do b[off + i] = c end
end

function ffi.errno(new) return 0 end

ffi.os, ffi.arch = native.os, native.arch
local ABI = { ["64bit"] = true, le = true, fpu = true, hardfp = true }
function ffi.abi(param) return ABI[param] == true end

local clib = require "phasekit.ffi.clib"
ffi.C = clib.namespace(ffi, state)

function ffi.load(name)
  error("phasekit's ffi cannot load native library '" .. tostring(name) .. "' (no native code runs in the Lua sandbox)", 2)
end

function ffi.tonumber(v) return tonumber(v) end

return ffi
