-- phasekit's ffi.C: the C functions pure-Lua OpenResty libraries call, written in Lua
-- (libc's inet_pton/ntohl/memcmp/strlen..., nginx's ngx_hex_dump/ngx_hextoi/ngx_atoi).
-- A symbol not declared with ffi.cdef raises LuaJIT's "missing declaration" error; a declared one
-- phasekit does not provide raises an error naming it.
local type, error, tostring, setmetatable, rawget, tonumber = type, error, tostring, setmetatable, rawget, tonumber
local byte, char, sub, find, fmt, match, lower = string.byte, string.char, string.sub, string.find, string.format, string.match, string.lower

local M = {}

function M.namespace(ffi, state)
  local bytes, put_bytes, is_cdata = ffi._bytes, ffi._put_bytes, ffi._is_cdata
  local AF_INET, AF_INET6 = 2, (ffi.os == "OSX" or ffi.os == "BSD") and 30 or 10
  if ffi.os == "BSD" then AF_INET6 = 28 end
  if ffi.os == "Windows" then AF_INET6 = 23 end

  local function ipv4_bytes(s)
    local a, b, c, d = match(s, "^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
    if not a then return nil end
    local out = {}
    for i, part in ipairs({ a, b, c, d }) do
      if #part > 3 or (#part > 1 and sub(part, 1, 1) == "0") then return nil end
      local n = tonumber(part)
      if n > 255 then return nil end
      out[i] = n
    end
    return char(out[1], out[2], out[3], out[4])
  end

  local function ipv6_bytes(s)
    if find(s, "[^%x:%.]") or s == "" then return nil end
    local v4tail = ""
    local last = match(s, ":([%d%.]+)$")
    if last and find(last, "%.") then
      v4tail = ipv4_bytes(last)
      if not v4tail then return nil end
      s = sub(s, 1, #s - #last) .. "0:0"
    end
    local head, tail = s, nil
    local dc = find(s, "::", 1, true)
    if dc then
      head, tail = sub(s, 1, dc - 1), sub(s, dc + 2)
      if find(tail, "::", 1, true) then return nil end
    end
    local function groups(part)
      local g = {}
      if part == "" then return g end
      for h in (part .. ":"):gmatch("([^:]*):") do
        if h == "" or #h > 4 then return nil end
        g[#g + 1] = tonumber(h, 16)
      end
      return g
    end
    local hg, tg = groups(head), groups(tail or "")
    if not hg or not tg then return nil end
    local n = #hg + #tg
    if (dc and n > 7) or (not dc and n ~= 8) then return nil end
    local all = {}
    for _, v in ipairs(hg) do all[#all + 1] = v end
    for _ = 1, 8 - n do all[#all + 1] = 0 end
    for _, v in ipairs(tg) do all[#all + 1] = v end
    local out = {}
    for i = 1, 8 do out[i] = char(all[i] >> 8, all[i] & 0xff) end
    local r = table.concat(out)
    if v4tail ~= "" then r = sub(r, 1, 12) .. v4tail end
    return r
  end

  local function bswap32(x) return ((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >> 8) & 0xff00) | ((x >> 24) & 0xff) end
  local function bswap16(x) return ((x & 0xff) << 8) | ((x >> 8) & 0xff) end

  local function str_arg(p, len)
    if type(p) == "string" then
      if len == nil then
        local z = find(p, "\0", 1, true)
        return z and sub(p, 1, z - 1) or p
      end
      return sub(p, 1, len)
    end
    return bytes(p, len, "C function")
  end

  local HEX = "0123456789abcdef"
  local F = {}
  function F.inet_pton(af, src, dst)
    local s = str_arg(src)
    local b
    if af == AF_INET then b = ipv4_bytes(s)
    elseif af == AF_INET6 then b = ipv6_bytes(s)
    else return -1 end
    if not b then return 0 end
    put_bytes(dst, b)
    return 1
  end
  function F.ntohl(x) return bswap32(x & 0xffffffff) end
  F.htonl = F.ntohl
  function F.ntohs(x) return bswap16(x & 0xffff) end
  F.htons = F.ntohs
  function F.strlen(s) return #str_arg(s) end
  function F.memcmp(a, b, n)
    local x, y = str_arg(a, n), str_arg(b, n)
    if x == y then return 0 end
    for i = 1, n do
      local p, q = byte(x, i), byte(y, i)
      if p ~= q then return p - q end
    end
    return 0
  end
  function F.strcmp(a, b)
    local x, y = str_arg(a), str_arg(b)
    if x == y then return 0 end
    return x < y and -1 or 1
  end
  function F.strncmp(a, b, n)
    return F.strcmp(sub(str_arg(a), 1, n), sub(str_arg(b), 1, n))
  end
  function F.memcpy(dst, src, n)
    put_bytes(dst, str_arg(src, n))
    return dst
  end
  F.memmove = F.memcpy
  function F.memset(dst, c, n)
    ffi.fill(dst, n, c)
    return dst
  end
  function F.malloc(n) return ffi.new("char[?]", n) end
  function F.calloc(n, size) return ffi.new("char[?]", n * size) end
  function F.free() end
  -- nginx: u_char *ngx_hex_dump(u_char *dst, u_char *src, size_t len)
  function F.ngx_hex_dump(dst, src, len)
    local s = str_arg(src, len)
    local out = {}
    for i = 1, #s do
      local c = byte(s, i)
      out[i] = sub(HEX, (c >> 4) + 1, (c >> 4) + 1) .. sub(HEX, (c & 15) + 1, (c & 15) + 1)
    end
    put_bytes(dst, table.concat(out))
    return dst + 2 * #s
  end
  -- nginx: ngx_int_t ngx_hextoi(u_char *line, size_t n); -1 (NGX_ERROR) on a bad digit or n == 0
  function F.ngx_hextoi(line, n)
    local s = str_arg(line, n)
    if #s == 0 or find(s, "[^%x]") then return -1 end
    return tonumber(s, 16)
  end
  -- nginx: ngx_int_t ngx_atoi(u_char *line, size_t n); -1 on a non-digit or n == 0
  function F.ngx_atoi(line, n)
    local s = str_arg(line, n)
    if #s == 0 or find(s, "[^%d]") then return -1 end
    return tonumber(s)
  end

  local C = {}
  M.functions = F
  return setmetatable(C, {
    __index = function(_, name)
      local v = state.consts[name]
      if v ~= nil then return v end
      local declared = state.funcs[name]
      if declared == nil then error("missing declaration for symbol '" .. tostring(name) .. "'", 2) end
      local f = F[name]
      if f == nil then
        error("phasekit's ffi does not provide the C function '" .. tostring(name) .. "' (no native code runs in the Lua sandbox)", 2)
      end
      return f
    end,
    __newindex = function(_, name)
      error("phasekit's ffi: cannot assign to C symbol '" .. tostring(name) .. "'", 2)
    end,
  })
end

return M
