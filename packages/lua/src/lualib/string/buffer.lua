-- LuaJIT's string.buffer on Lua 5.4: an appendable byte buffer with put/get/set/skip/reset and
-- encode/decode. encode's serialisation is phasekit's own (decode reads what encode wrote, not
-- LuaJIT's binary format). ref/reserve/commit/putcdata work with phasekit's ffi byte arrays.
local type, tostring, error, select, setmetatable, getmetatable, rawequal, pairs, next =
      type, tostring, error, select, setmetatable, getmetatable, rawequal, pairs, next
local concat, sub, fmt, pack, unpack_, mtype = table.concat, string.sub, string.format, string.pack, string.unpack, math.type
local floor = math.floor

local Buffer = {}
local MT = { __index = Buffer, __name = "buffer" }

local function is_buffer(v) return getmetatable(v) == MT end

-- the pending pieces become one string (the buffer's content after the read position)
local function flat(b)
  local n = b.n
  if n > 0 then
    local parts = b.parts
    local s = b.pos > 1 and sub(b.s, b.pos) or b.s
    parts[0] = s
    b.s = concat(parts, "", 0, n)
    for i = 0, n do parts[i] = nil end
    b.n = 0
    b.pos = 1
  end
  return b
end

local function content(b)
  flat(b)
  if b.pos > 1 then
    b.s = sub(b.s, b.pos)
    b.pos = 1
  end
  return b.s
end

local function numstr(v)
  if mtype(v) == "float" then
    if v ~= v then return "nan" end
    if v == 1 / 0 then return "inf" end
    if v == -1 / 0 then return "-inf" end
    return fmt("%.14g", v)
  end
  return tostring(v)
end

local function piece(v, i, fname)
  local t = type(v)
  if t == "string" then return v end
  if t == "number" then return numstr(v) end
  if is_buffer(v) then return content(v) end
  local mt = getmetatable(v)
  if mt ~= nil and type(mt) == "table" and mt.__tostring then return tostring(v) end
  error("bad argument #" .. i .. " to '" .. fname .. "' (string expected, got " .. t .. ")", 3)
end

local function append(b, s)
  if s == "" then return end
  local n = b.n + 1
  b.parts[n] = s
  b.n = n
  b.len = b.len + #s
end

local function new(size, options)
  if type(size) == "table" then options = size end
  local b = setmetatable({ s = "", pos = 1, parts = {}, n = 0, len = 0, options = options }, MT)
  return b
end

function Buffer.put(b, ...)
  for i = 1, select("#", ...) do append(b, piece((select(i, ...)), i, "put")) end
  return b
end

function Buffer.putf(b, f, ...)
  append(b, fmt(f, ...))
  return b
end

function Buffer.set(b, s, len)
  if type(s) ~= "string" and not is_buffer(s) then
    local ffi = require "ffi"
    s = ffi.string(s, len)
  end
  s = piece(s, 1, "set")
  b.s, b.pos, b.n, b.len = s, 1, 0, #s
  for k in pairs(b.parts) do b.parts[k] = nil end
  return b
end

function Buffer.putcdata(b, ptr, len)
  local ffi = require "ffi"
  append(b, ffi.string(ptr, len))
  return b
end

function Buffer.reset(b)
  b.s, b.pos, b.n, b.len = "", 1, 0, 0
  for k in pairs(b.parts) do b.parts[k] = nil end
  return b
end
Buffer.free = Buffer.reset

function Buffer.skip(b, len)
  flat(b)
  if len > b.len then len = b.len end
  if len > 0 then
    b.pos = b.pos + len
    b.len = b.len - len
  end
  return b
end

local function take(b, len)
  flat(b)
  if len == nil or len > b.len then len = b.len end
  if len < 0 then len = 0 end
  local s = sub(b.s, b.pos, b.pos + len - 1)
  b.pos = b.pos + len
  b.len = b.len - len
  return s
end

function Buffer.get(b, ...)
  local n = select("#", ...)
  if n == 0 then return take(b, nil) end
  if n == 1 then return take(b, (...)) end
  local out = {}
  for i = 1, n do out[i] = take(b, (select(i, ...))) end
  return table.unpack(out, 1, n)
end

function Buffer.tostring(b)
  return content(b)
end

-- ptr, len of a copy of the content (phasekit's ffi byte array)
function Buffer.ref(b)
  local ffi = require "ffi"
  local s = content(b)
  local p = ffi.new("char[?]", #s + 1)
  ffi.copy(p, s, #s)
  return p, #s
end

-- reserve(size) -> ptr, len: write into ptr, then commit(used) appends those bytes
function Buffer.reserve(b, size)
  local ffi = require "ffi"
  local p = ffi.new("char[?]", size)
  b.reserved = p
  return p, size
end

function Buffer.commit(b, used)
  local p = b.reserved
  if p == nil then error("bad argument #1 to 'commit' (number out of range)", 2) end
  local ffi = require "ffi"
  append(b, ffi.string(p, used))
  b.reserved = nil
  return b
end

MT.__len = function(b) return b.len end
MT.__tostring = function(b) return content(b) end
MT.__concat = function(a, c)
  local x = is_buffer(a) and content(a) or piece(a, 1, "concat")
  local y = is_buffer(c) and content(c) or piece(c, 2, "concat")
  return x .. y
end

-- serialisation: a tag byte per value
local encode_value
local function encode_table(out, t, depth)
  if depth > 100 then error("buffer.encode: too deep to encode", 0) end
  local n = 0
  for _ in next, t do n = n + 1 end
  out[#out + 1] = "t" .. pack("<I4", n)
  for k, v in next, t do
    encode_value(out, k, depth)
    encode_value(out, v, depth)
  end
end
function encode_value(out, v, depth)
  local t = type(v)
  if v == nil then out[#out + 1] = "0"
  elseif v == false then out[#out + 1] = "f"
  elseif v == true then out[#out + 1] = "T"
  elseif t == "number" then
    if mtype(v) == "integer" then out[#out + 1] = "i" .. pack("<j", v)
    else out[#out + 1] = "d" .. pack("<d", v) end
  elseif t == "string" then out[#out + 1] = "s" .. pack("<s4", v)
  elseif t == "table" then encode_table(out, v, depth + 1)
  elseif t == "userdata" and rawequal(v, ngx and ngx.null) then out[#out + 1] = "n"
  else error("cannot serialize " .. t, 3) end
end

local function decode_value(s, pos)
  local tag = sub(s, pos, pos)
  pos = pos + 1
  if tag == "0" then return nil, pos
  elseif tag == "f" then return false, pos
  elseif tag == "T" then return true, pos
  elseif tag == "n" then return ngx and ngx.null, pos
  elseif tag == "i" then return unpack_("<j", s, pos)
  elseif tag == "d" then return unpack_("<d", s, pos)
  elseif tag == "s" then return unpack_("<s4", s, pos)
  elseif tag == "t" then
    local n
    n, pos = unpack_("<I4", s, pos)
    local t = {}
    for _ = 1, n do
      local k, v
      k, pos = decode_value(s, pos)
      v, pos = decode_value(s, pos)
      if k ~= nil then t[k] = v end
    end
    return t, pos
  end
  error("unexpected end of buffer", 0)
end

local function encode(v)
  local out = {}
  encode_value(out, v, 0)
  return concat(out)
end

local function decode(s)
  if type(s) ~= "string" then s = piece(s, 1, "decode") end
  local ok, v, pos = pcall(decode_value, s, 1)
  if not ok then error(v, 2) end
  if pos <= #s then error("extra data at end of buffer", 2) end
  return v
end

function Buffer.encode(b, v)
  append(b, encode(v))
  return b
end

function Buffer.decode(b)
  local s = content(b)
  local ok, v, pos = pcall(decode_value, s, 1)
  if not ok then error(v, 2) end
  b.pos = pos
  b.len = #s - pos + 1
  return v
end

return { new = new, encode = encode, decode = decode }
