// The built-in "cjson" and "cjson.safe" modules: OpenResty's lua-cjson 2.1.0.x fork, written in Lua.

import type { NgxInstall } from '../ngx/install.js';

// A port of lua_cjson.c (openresty/lua-cjson): same encoding rules, same configuration functions,
// same error texts. Errors carry no "file:line:" prefix because lua-cjson raises them from C
// (luaL_error/luaL_argerror at level 1 name no Lua position). Lua 5.4 integers encode as integers
// (%d); floats use %.<precision>g like fpconv_g_fmt.
const CJSON_LUA = String.raw`
local preload, null = ...
local type, pairs, next, error, select, pcall, rawget, rawlen, rawequal, tostring, tonumber =
  type, pairs, next, error, select, pcall, rawget, rawlen, rawequal, tostring, tonumber
local getmetatable, setmetatable = debug.getmetatable, setmetatable
local fmt, byte, sub, find, match, gsub, char, concat = string.format, string.byte, string.sub, string.find, string.match, string.gsub, string.char, table.concat
local floor, huge, mtype, tointeger = math.floor, math.huge, math.type, math.tointeger
-- strtod("nan") is a positive NaN (prints "nan"); 0/0 carries the sign bit on x86 ("-nan")
local NAN = 0.0 / 0.0
if tostring(NAN):sub(1, 1) == "-" then NAN = -NAN end

-- Shared by every instance, as lua-cjson keeps them in the registry.
local array_mt, empty_array_mt = {}, {}
-- A unique light userdata (Lua 5.4 cannot make one from Lua otherwise): the id of an upvalue
-- that this chunk keeps alive.
local anchor = {}
local function anchored() return anchor end
local empty_array = debug.upvalueid(anchored, 1)

local ESC = {}
for i = 0, 31 do ESC[char(i)] = fmt("\\u%04x", i) end
ESC["\b"], ESC["\t"], ESC["\n"], ESC["\f"], ESC["\r"] = "\\b", "\\t", "\\n", "\\f", "\\r"
ESC['"'], ESC["\\"], ESC["/"], ESC["\127"] = '\\"', "\\\\", "\\/", "\\u007f"

local TOKEN_NAMES = { "T_OBJ_BEGIN", "T_OBJ_END", "T_ARR_BEGIN", "T_ARR_END", "T_STRING", "T_NUMBER", "T_BOOLEAN",
  "T_NULL", "T_COLON", "T_COMMA", "T_END" }
local T_OBJ_BEGIN, T_OBJ_END, T_ARR_BEGIN, T_ARR_END, T_STRING, T_NUMBER, T_BOOLEAN, T_NULL, T_COLON, T_COMMA, T_END, T_ERROR =
  1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12
local SINGLE = { [123] = T_OBJ_BEGIN, [125] = T_OBJ_END, [91] = T_ARR_BEGIN, [93] = T_ARR_END, [58] = T_COLON, [44] = T_COMMA }
local ESCAPE_CHARS = { [34] = '"', [92] = "\\", [47] = "/", [98] = "\b", [116] = "\t", [110] = "\n", [102] = "\f", [114] = "\r" }

local function argcheck(cond, i, fname, msg)
  if not cond then error("bad argument #" .. i .. " to '" .. fname .. "' (" .. msg .. ")", 0) end
end

local function arg_init(fname, nmax, ...)
  local n = select("#", ...)
  argcheck(n <= nmax, nmax + 1, fname, "found too many arguments")
end

local function integer_option(fname, cfg, key, v, min, max)
  if v ~= nil then
    local n = tonumber(v)
    argcheck(n ~= nil, 1, fname, "number expected, got " .. type(v))
    n = n >= 0 and floor(n) or -floor(-n)
    argcheck(min <= n and n <= max, 1, fname, "expected integer between " .. min .. " and " .. max)
    cfg[key] = tointeger(n)
  end
  return cfg[key]
end

-- json_enum_option: true/false, or one of the option names ("off", "on"[, "null"]).
local BOOL_OPTIONS = { "off", "on" }
local function enum_option(fname, cfg, key, v, options)
  options = options or BOOL_OPTIONS
  if v ~= nil then
    if type(v) == "boolean" then
      cfg[key] = v and 1 or 0
    else
      local t = type(v)
      argcheck(t == "string" or t == "number", 1, fname, "string expected, got " .. t)
      local s, found = tostring(v), nil
      for i, name in ipairs(options) do if name == s then found = i - 1 end end
      argcheck(found ~= nil, 1, fname, "invalid option '" .. s .. "'")
      cfg[key] = found
    end
  end
  local cur = cfg[key]
  if cur == 0 or cur == 1 then return cur == 1 end
  return options[cur + 1]
end

local function new_module(safe)
  local cfg = {
    sparse_convert = 0, sparse_ratio = 2, sparse_safe = 10,
    encode_max_depth = 1000, decode_max_depth = 1000,
    encode_invalid_numbers = 0, decode_invalid_numbers = 1,
    encode_keep_buffer = 1, encode_number_precision = 14,
    encode_empty_table_as_object = 1, decode_array_with_array_mt = 0,
    decode_json_null = 1, encode_escape_forward_slash = 1,
  }

  local function encode_number(n)
    if n ~= n or n == huge or n == -huge then
      local mode = cfg.encode_invalid_numbers
      if mode == 0 then error("Cannot serialise number: must not be NaN or Infinity", 0) end
      if mode == 2 then return "null" end
      if n ~= n then return "NaN" end
      return n > 0 and "Infinity" or "-Infinity"
    end
    if mtype(n) == "integer" then return fmt("%d", n) end
    return fmt("%." .. cfg.encode_number_precision .. "g", n)
  end

  local function encode_string(s)
    if cfg.encode_escape_forward_slash == 1 then
      return '"' .. gsub(s, '[%c"\\/]', ESC) .. '"'
    end
    return '"' .. gsub(s, '[%c"\\]', ESC) .. '"'
  end

  -- lua_array_length: the highest positive integer key if every key is one, else -1.
  local function array_length(t)
    local max, items = 0, 0
    for k in next, t do
      if type(k) == "number" and k >= 1 and floor(k) == k then
        if k > max then max = k end
        items = items + 1
      else
        return -1
      end
    end
    if cfg.sparse_ratio > 0 and max > items * cfg.sparse_ratio and max > cfg.sparse_safe then
      if cfg.sparse_convert == 0 then error("Cannot serialise table: excessively sparse array", 0) end
      return -1
    end
    return max
  end

  local encode_value

  local function encode_array(t, len, depth, buf)
    buf[#buf + 1] = "["
    for i = 1, len do
      if i > 1 then buf[#buf + 1] = "," end
      encode_value(rawget(t, i), depth, buf)
    end
    buf[#buf + 1] = "]"
  end

  local function encode_object(t, depth, buf)
    buf[#buf + 1] = "{"
    local comma = false
    for k, v in next, t do
      if comma then buf[#buf + 1] = "," else comma = true end
      local kt = type(k)
      if kt == "number" then
        buf[#buf + 1] = '"' .. encode_number(k) .. '":'
      elseif kt == "string" then
        buf[#buf + 1] = encode_string(k) .. ":"
      else
        error("Cannot serialise " .. kt .. ": table key must be a number or string", 0)
      end
      encode_value(v, depth, buf)
    end
    buf[#buf + 1] = "}"
  end

  encode_value = function(v, depth, buf)
    local t = type(v)
    if t == "string" then
      buf[#buf + 1] = encode_string(v)
    elseif t == "number" then
      buf[#buf + 1] = encode_number(v)
    elseif t == "boolean" then
      buf[#buf + 1] = v and "true" or "false"
    elseif t == "table" then
      depth = depth + 1
      if depth > cfg.encode_max_depth then error("Cannot serialise, excessive nesting (" .. depth .. ")", 0) end
      local mt = getmetatable(v)
      if mt ~= nil and rawequal(mt, array_mt) then
        encode_array(v, rawlen(v), depth, buf)
        return
      end
      local len = array_length(v)
      if len > 0 or (len == 0 and cfg.encode_empty_table_as_object == 0) then
        encode_array(v, len, depth, buf)
      elseif mt ~= nil and rawequal(mt, empty_array_mt) then
        buf[#buf + 1] = "[]"
      else
        encode_object(v, depth, buf)
      end
    elseif v == nil or v == null then
      buf[#buf + 1] = "null"
    elseif v == empty_array then
      buf[#buf + 1] = "[]"
    else
      error("Cannot serialise " .. t .. ": type not supported", 0)
    end
  end

  local function encode(...)
    argcheck(select("#", ...) == 1, 1, "encode", "expected 1 argument")
    local buf = {}
    encode_value((...), 0, buf)
    return concat(buf)
  end

  local function decode(...)
    argcheck(select("#", ...) == 1, 1, "decode", "expected 1 argument")
    local s = ...
    local st = type(s)
    if st == "number" then
      s = mtype(s) == "integer" and fmt("%d", s) or fmt("%.14g", s)
    elseif st ~= "string" then
      argcheck(false, 1, "decode", "string expected, got " .. st)
    end
    local len = #s
    if len >= 2 and (byte(s, 1) == 0 or byte(s, 2) == 0) then
      error("JSON parser does not support UTF-16 or UTF-32", 0)
    end
    local pos, depth = 1, 0
    local with_array_mt, json_null, max_depth = cfg.decode_array_with_array_mt == 1, cfg.decode_json_null == 1, cfg.decode_max_depth
    local invalid_numbers = cfg.decode_invalid_numbers == 1

    -- token: type, value, 1-based index of the token (for errors)
    local function throw(expected, tt, tv, index)
      local found = tt == T_ERROR and tv or TOKEN_NAMES[tt]
      error("Expected " .. expected .. " but found " .. found .. " at character " .. index, 0)
    end

    -- json_is_invalid_number: numbers strict JSON rejects (+, leading zeros, hex, inf, nan)
    local function is_invalid_number(p)
      local c = byte(s, p)
      if c == 43 then return true end
      if c == 45 then p = p + 1 c = byte(s, p) end
      if c == 48 then
        local c2 = byte(s, p + 1) or 0
        return c2 | 0x20 == 120 or (c2 >= 48 and c2 <= 57)
      elseif c and c <= 57 then
        return false
      end
      local w = (sub(s, p, p + 2)):lower()
      return w == "inf" or w == "nan"
    end

    -- strtod(): the longest prefix at p that is a number; nil when there is none.
    local function scan_number(p)
      local sign = match(s, "^[+-]?", p)
      local q = p + #sign
      local neg = sign == "-"
      local word = match(s, "^[iI][nN][fF][iI][nN][iI][tT][yY]", q) or match(s, "^[iI][nN][fF]", q)
      if word then return neg and -huge or huge, q + #word end
      word = match(s, "^[nN][aA][nN]", q)
      if word then
        local paren = match(s, "^%([%w_]*%)", q + 3)
        return NAN, q + 3 + (paren and #paren or 0)
      end
      local hex = match(s, "^0[xX]%x+%.?%x*", q) or match(s, "^0[xX]%.%x+", q)
      if hex then
        local exp = match(s, "^[pP][+-]?%d+", q + #hex) or ""
        local n = tonumber(hex .. exp)
        if n == nil and exp == "" then n = tonumber(hex .. "p0") end
        local v = tonumber(n) or 0
        return neg and -v or v, q + #hex + #exp
      end
      local mant = match(s, "^%d+%.?%d*", q) or match(s, "^%.%d+", q)
      if not mant then return nil end
      local exp = match(s, "^[eE][+-]?%d+", q + #mant) or ""
      local text = mant .. exp
      local v
      if exp == "" and not find(mant, ".", 1, true) then
        v = tonumber(mant)
        if mtype(v) == "integer" then
          if neg then
            if v == 0 then v = -0.0 else v = -v end
          end
          return v, q + #text
        end
      end
      v = tonumber(text) + 0.0
      if neg then v = -v end
      -- integral floats LuaJIT would print without a fraction become integers (10534, not 10534.0)
      if v == floor(v) and v ~= 0 and v > -2^53 and v < 2^53 then v = tointeger(v) end
      return v, q + #text
    end

    local function next_token()
      pos = find(s, "[^ \t\n\r]", pos) or len + 1
      local c = byte(s, pos)
      if c == nil or c == 0 then return T_END, nil, pos end
      local single = SINGLE[c]
      if single then
        pos = pos + 1
        return single, nil, pos - 1
      end
      local start = pos
      if c == 34 then
        local parts, p = {}, pos + 1
        while true do
          local q = find(s, '[\0"\\]', p)
          if not q then pos = len + 1 return T_ERROR, "unexpected end of string", pos end
          if q > p then parts[#parts + 1] = sub(s, p, q - 1) end
          local ch = byte(s, q)
          if ch == 34 then
            pos = q + 1
            return T_STRING, concat(parts), start
          elseif ch == 0 then
            pos = q
            return T_ERROR, "unexpected end of string", q
          end
          local e = byte(s, q + 1)
          if e == 117 then
            local cp = tonumber(match(s, "^%x%x%x%x", q + 2) or "", 16)
            local used = 6
            if cp and cp & 0xF800 == 0xD800 then
              local low = cp & 0x400 == 0 and match(s, "^\\u(%x%x%x%x)", q + 6)
              low = low and tonumber(low, 16)
              if low and low & 0xFC00 == 0xDC00 then
                cp = (((cp & 0x3FF) << 10) | (low & 0x3FF)) + 0x10000
                used = 12
              else
                cp = nil
              end
            end
            if not cp then pos = q return T_ERROR, "invalid unicode escape code", q end
            parts[#parts + 1] = utf8.char(cp)
            p = q + used
          else
            local rep = e and ESCAPE_CHARS[e]
            if not rep then pos = q return T_ERROR, "invalid escape code", q end
            parts[#parts + 1] = rep
            p = q + 2
          end
        end
      end
      if c == 45 or (c >= 48 and c <= 57) then
        if not invalid_numbers and is_invalid_number(pos) then return T_ERROR, "invalid number", pos end
        local v, after = scan_number(pos)
        if v == nil then return T_ERROR, "invalid number", pos end
        pos = after
        return T_NUMBER, v, start
      end
      if sub(s, pos, pos + 3) == "true" then pos = pos + 4 return T_BOOLEAN, true, start end
      if sub(s, pos, pos + 4) == "false" then pos = pos + 5 return T_BOOLEAN, false, start end
      if sub(s, pos, pos + 3) == "null" then pos = pos + 4 return T_NULL, nil, start end
      if invalid_numbers and (c == 43 or c == 105 or c == 73 or c == 110 or c == 78) and is_invalid_number(pos) then
        local v, after = scan_number(pos)
        if v == nil then return T_ERROR, "invalid number", pos end
        pos = after
        return T_NUMBER, v, start
      end
      return T_ERROR, "invalid token", pos
    end

    local process_value

    local function descend()
      depth = depth + 1
      if depth > max_depth then
        error("Found too many nested data structures (" .. depth .. ") at character " .. (pos - 1), 0)
      end
    end

    local function parse_object()
      descend()
      local obj = {}
      local tt, tv, ti = next_token()
      if tt == T_OBJ_END then depth = depth - 1 return obj end
      while true do
        if tt ~= T_STRING then throw("object key string", tt, tv, ti) end
        local key = tv
        tt, tv, ti = next_token()
        if tt ~= T_COLON then throw("colon", tt, tv, ti) end
        obj[key] = process_value(next_token())
        tt, tv, ti = next_token()
        if tt == T_OBJ_END then depth = depth - 1 return obj end
        if tt ~= T_COMMA then throw("comma or object end", tt, tv, ti) end
        tt, tv, ti = next_token()
      end
    end

    local function parse_array()
      descend()
      local arr = {}
      if with_array_mt then setmetatable(arr, array_mt) end
      local tt, tv, ti = next_token()
      if tt == T_ARR_END then depth = depth - 1 return arr end
      local i = 1
      while true do
        arr[i] = process_value(tt, tv, ti)
        tt, tv, ti = next_token()
        if tt == T_ARR_END then depth = depth - 1 return arr end
        if tt ~= T_COMMA then throw("comma or array end", tt, tv, ti) end
        tt, tv, ti = next_token()
        i = i + 1
      end
    end

    process_value = function(tt, tv, ti)
      if tt == T_STRING or tt == T_NUMBER or tt == T_BOOLEAN then return tv end
      if tt == T_OBJ_BEGIN then return parse_object() end
      if tt == T_ARR_BEGIN then return parse_array() end
      if tt == T_NULL then
        if json_null then return null end
        return nil
      end
      throw("value", tt, tv, ti)
    end

    local value = process_value(next_token())
    local tt, tv, ti = next_token()
    if tt ~= T_END then throw("the end", tt, tv, ti) end
    return value
  end

  local M = {
    _NAME = "cjson", _VERSION = "2.1.0.10",
    null = null, empty_array = empty_array, array_mt = array_mt, empty_array_mt = empty_array_mt,
  }
  function M.encode_sparse_array(...)
    arg_init("encode_sparse_array", 3, ...)
    local convert, ratio, safe_ = ...
    return enum_option("encode_sparse_array", cfg, "sparse_convert", convert),
      integer_option("encode_sparse_array", cfg, "sparse_ratio", ratio, 0, 2147483647),
      integer_option("encode_sparse_array", cfg, "sparse_safe", safe_, 0, 2147483647)
  end
  local function int_cfg(name, key, min, max)
    M[name] = function(...)
      arg_init(name, 1, ...)
      return integer_option(name, cfg, key, (...), min, max)
    end
  end
  local function enum_cfg(name, key, options)
    M[name] = function(...)
      arg_init(name, 1, ...)
      return enum_option(name, cfg, key, (...), options)
    end
  end
  int_cfg("encode_max_depth", "encode_max_depth", 1, 2147483647)
  int_cfg("decode_max_depth", "decode_max_depth", 1, 2147483647)
  int_cfg("encode_number_precision", "encode_number_precision", 1, 16)
  enum_cfg("encode_empty_table_as_object", "encode_empty_table_as_object")
  enum_cfg("decode_array_with_array_mt", "decode_array_with_array_mt")
  enum_cfg("decode_json_null", "decode_json_null")
  enum_cfg("encode_keep_buffer", "encode_keep_buffer")
  enum_cfg("encode_escape_forward_slash", "encode_escape_forward_slash")
  enum_cfg("encode_invalid_numbers", "encode_invalid_numbers", { "off", "on", "null" })
  enum_cfg("decode_invalid_numbers", "decode_invalid_numbers")

  if safe then
    -- json_protect_conversion: argument-count misuse still raises; everything else is nil, err
    local function protect(fname, f)
      return function(...)
        argcheck(select("#", ...) == 1, 1, fname, "expected 1 argument")
        local ok, res = pcall(f, ...)
        if ok then return res end
        return nil, res
      end
    end
    M.encode, M.decode = protect("encode", encode), protect("decode", decode)
    M.new = function() return new_module(true) end
  else
    M.encode, M.decode = encode, decode
    M.new = function() return new_module(false) end
  end
  return M
end

preload["cjson"] = function() return new_module(false) end
preload["cjson.safe"] = function() return new_module(true) end
`;

/** Installs `cjson` and `cjson.safe` into `ctx.preload`; `cjson.null` is `ngx.null`. */
export function installCjson(ctx: NgxInstall): void {
  ctx.vm.run(CJSON_LUA, 'cjson', ctx.preload, ctx.nullValue);
}
