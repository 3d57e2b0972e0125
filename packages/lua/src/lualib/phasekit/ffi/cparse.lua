-- phasekit's ffi: C declarations and type strings -> ctype descriptors (internal module).
-- A ctype is a table: kind ("int", "float", "bool", "void", "ptr", "array", "struct"), size,
-- align, name, and per kind: signed (int), to (ptr), elem and n (array; n nil for "[?]"),
-- fields / byname (struct; a field is { name, ct, offset }).
local type, error, tonumber, tostring, pairs, ipairs, setmetatable, pcall, select =
      type, error, tonumber, tostring, pairs, ipairs, setmetatable, pcall, select
local sub, find, match, gsub, fmt, concat = string.sub, string.find, string.match, string.gsub, string.format, table.concat

local M = {}

local function scalar(kind, size, signed, name)
  return { kind = kind, size = size, align = size > 0 and size or 1, signed = signed, name = name }
end

local I8, U8 = scalar("int", 1, true, "int8_t"), scalar("int", 1, false, "uint8_t")
local I16, U16 = scalar("int", 2, true, "int16_t"), scalar("int", 2, false, "uint16_t")
local I32, U32 = scalar("int", 4, true, "int32_t"), scalar("int", 4, false, "uint32_t")
local I64, U64 = scalar("int", 8, true, "int64_t"), scalar("int", 8, false, "uint64_t")
local CHAR, UCHAR = scalar("int", 1, true, "char"), scalar("int", 1, false, "unsigned char")
local FLOAT, DOUBLE = scalar("float", 4, true, "float"), scalar("float", 8, true, "double")
local BOOL, VOID = scalar("bool", 1, false, "bool"), scalar("void", 0, false, "void")
M.VOID, M.CHAR, M.UCHAR = VOID, CHAR, UCHAR

-- the base words of C's scalar types, in canonical order
local BASE_WORDS = {
  ["char"] = CHAR, ["signed char"] = I8, ["unsigned char"] = UCHAR,
  ["short"] = I16, ["short int"] = I16, ["signed short"] = I16, ["unsigned short"] = U16, ["unsigned short int"] = U16,
  ["int"] = I32, ["signed"] = I32, ["signed int"] = I32, ["unsigned"] = U32, ["unsigned int"] = U32,
  ["long"] = I64, ["long int"] = I64, ["signed long"] = I64, ["unsigned long"] = U64, ["unsigned long int"] = U64,
  ["long long"] = I64, ["long long int"] = I64, ["signed long long"] = I64,
  ["unsigned long long"] = U64, ["unsigned long long int"] = U64,
  ["float"] = FLOAT, ["double"] = DOUBLE, ["long double"] = DOUBLE,
  ["void"] = VOID, ["_Bool"] = BOOL, ["bool"] = BOOL,
}
local IS_BASE_WORD = { char = true, short = true, int = true, long = true, signed = true, unsigned = true,
  float = true, double = true, void = true, _Bool = true, bool = true }
local QUALIFIERS = { const = true, volatile = true, static = true, extern = true, inline = true, register = true,
  restrict = true, __restrict = true, __restrict__ = true, __extension__ = true, __inline = true, __const = true }

-- the types every cdef knows (stdint, stddef, nginx's)
local BUILTIN = {
  int8_t = I8, uint8_t = U8, int16_t = I16, uint16_t = U16, int32_t = I32, uint32_t = U32,
  int64_t = I64, uint64_t = U64, size_t = U64, ssize_t = I64, intptr_t = I64, uintptr_t = U64,
  ptrdiff_t = I64, off_t = I64, time_t = I64, u_char = UCHAR, ngx_int_t = I64, ngx_uint_t = U64,
  ngx_msec_t = U64, ngx_msec_int_t = I64, ngx_flag_t = I64, ngx_err_t = I32, in_port_t = U16,
  in_addr_t = U32, socklen_t = U32, pid_t = I32, va_list = U64, wchar_t = I32,
}

function M.new_state()
  local typedefs = {}
  for k, v in pairs(BUILTIN) do typedefs[k] = v end
  return { typedefs = typedefs, structs = {}, funcs = {}, consts = {}, cache = {} }
end

local PTR_CACHE = setmetatable({}, { __mode = "k" })
function M.ptr(to)
  local p = PTR_CACHE[to]
  if p == nil then
    p = { kind = "ptr", size = 8, align = 8, to = to, name = to.name .. " *" }
    PTR_CACHE[to] = p
  end
  return p
end

function M.array(elem, n)
  return {
    kind = "array", elem = elem, n = n, align = elem.align,
    size = n and elem.size * n or nil,
    name = elem.name .. "[" .. (n and tostring(n) or "?") .. "]",
  }
end

local function tokenize(s)
  s = gsub(s, "/%*.-%*/", " ")
  s = gsub(s, "//[^\n]*", " ")
  s = gsub(s, "\n%s*#[^\n]*", "\n")
  s = gsub(s, "^%s*#[^\n]*", "")
  local toks, i, n = {}, 1, #s
  while i <= n do
    local c = sub(s, i, i)
    if find(c, "^%s") then
      i = i + 1
    elseif find(c, "^[%a_]") then
      local j = find(s, "[^%w_]", i) or n + 1
      toks[#toks + 1] = sub(s, i, j - 1)
      i = j
    elseif find(c, "^%d") then
      local j = find(s, "[^%w%.]", i) or n + 1
      toks[#toks + 1] = sub(s, i, j - 1)
      i = j
    elseif c == "." and sub(s, i, i + 2) == "..." then
      toks[#toks + 1] = "..."
      i = i + 3
    else
      toks[#toks + 1] = c
      i = i + 1
    end
  end
  return toks
end

local Parser = {}
Parser.__index = Parser

local function parser(state, text)
  return setmetatable({ st = state, toks = tokenize(text), pos = 1 }, Parser)
end

function Parser:peek(k) return self.toks[self.pos + (k or 0)] end
function Parser:next()
  local t = self.toks[self.pos]
  self.pos = self.pos + 1
  return t
end
function Parser:accept(t)
  if self.toks[self.pos] == t then
    self.pos = self.pos + 1
    return true
  end
  return false
end
function Parser:fail(msg)
  error({ cparse = true, msg = msg }, 0)
end
function Parser:expect(t)
  if not self:accept(t) then self:fail("'" .. t .. "' expected near '" .. tostring(self:peek() or "<eof>") .. "'") end
end

-- skips a balanced ( ... ) group starting at the current "("
function Parser:skip_parens()
  local depth = 0
  repeat
    local t = self:next()
    if t == nil then self:fail("unbalanced parentheses") end
    if t == "(" then depth = depth + 1 elseif t == ")" then depth = depth - 1 end
  until depth == 0
end

function Parser:skip_attributes()
  while true do
    local t = self:peek()
    if t == "__attribute__" or t == "__asm__" or t == "asm" or t == "__declspec" then
      self:next()
      if self:peek() == "(" then self:skip_parens() end
    elseif t and QUALIFIERS[t] then
      self:next()
    else
      return
    end
  end
end

-- a constant expression: tokens up to , ; ] } at depth 0, evaluated with the enum constants
function Parser:const_expr()
  local parts, depth = {}, 0
  while true do
    local t = self:peek()
    if t == nil then break end
    if depth == 0 and (t == "," or t == ";" or t == "]" or t == "}") then break end
    if t == "(" then depth = depth + 1 elseif t == ")" then depth = depth - 1 end
    parts[#parts + 1] = t
    self:next()
  end
  local expr = gsub(concat(parts, " "), "(%d)[uUlL]+", "%1")
  local f = load("return " .. expr, "=cexpr", "t", self.st.consts)
  local ok, v = false, nil
  if f then ok, v = pcall(f) end
  if not ok or type(v) ~= "number" then self:fail("cannot evaluate '" .. expr .. "'") end
  return v
end

function M.layout(ct, fields, union)
  local offset, align = 0, 1
  local byname = {}
  for _, f in ipairs(fields) do
    local a = f.ct.align or 1
    if a > align then align = a end
    if union then
      f.offset = 0
      if (f.ct.size or 0) > offset then offset = f.ct.size or 0 end
    else
      offset = (offset + a - 1) // a * a
      f.offset = offset
      offset = offset + (f.ct.size or 0)
    end
    if f.name then byname[f.name] = f end
  end
  ct.fields, ct.byname, ct.align = fields, byname, align
  ct.size = (offset + align - 1) // align * align
  ct.complete = true
  return ct
end

function Parser:struct_body(ct, union)
  local fields = {}
  while not self:accept("}") do
    if self:peek() == nil then self:fail("'}' expected") end
    if not self:accept(";") then
      local base = self:base()
      repeat
        local t, name = self:declarator(base)
        if self:accept(":") then self:const_expr() end
        fields[#fields + 1] = { name = name, ct = t }
      until not self:accept(",")
      self:expect(";")
    end
  end
  return M.layout(ct, fields, union)
end

function Parser:base()
  self:skip_attributes()
  local st = self.st
  local t = self:peek()
  if t == "struct" or t == "union" then
    self:next()
    self:skip_attributes()
    local tag = self:peek()
    if tag and find(tag, "^[%a_][%w_]*$") then self:next() else tag = nil end
    local key = t .. " " .. (tag or "")
    local ct = tag and st.structs[key]
    if self:peek() == "{" then
      self:next()
      if ct == nil or ct.complete then ct = { kind = "struct", name = tag and key or t .. " {anon}" } end
      self:struct_body(ct, t == "union")
      if tag then st.structs[key] = ct end
    elseif ct == nil then
      if tag == nil then self:fail("struct tag expected") end
      ct = { kind = "struct", name = key, size = 0, align = 1, fields = {}, byname = {} }
      st.structs[key] = ct
    end
    self:skip_attributes()
    return ct
  elseif t == "enum" then
    self:next()
    local tag = self:peek()
    if tag and find(tag, "^[%a_][%w_]*$") then self:next() end
    if self:accept("{") then
      local v = 0
      while not self:accept("}") do
        local name = self:next()
        if name == nil then self:fail("'}' expected") end
        if self:accept("=") then v = self:const_expr() end
        st.consts[name] = v
        v = v + 1
        self:accept(",")
      end
    end
    return I32
  end
  local words = {}
  while true do
    t = self:peek()
    if t and IS_BASE_WORD[t] then
      words[#words + 1] = t
      self:next()
    elseif t and QUALIFIERS[t] then
      self:next()
    else
      break
    end
  end
  local ct
  if #words > 0 then
    -- canonical order: signedness first
    local sign, rest = nil, {}
    for _, w in ipairs(words) do
      if w == "signed" or w == "unsigned" then sign = w else rest[#rest + 1] = w end
    end
    local key = concat(rest, " ")
    if sign then key = key == "" and sign or sign .. " " .. key end
    ct = BASE_WORDS[key]
    if ct == nil then self:fail("unknown C type '" .. concat(words, " ") .. "'") end
  else
    t = self:next()
    ct = t and st.typedefs[t]
    if ct == nil then self:fail("unknown C type '" .. tostring(t) .. "'") end
  end
  self:skip_attributes()
  return ct
end

-- pointers, a name, arrays, function parameters: returns ct, name, is_function
function Parser:declarator(base)
  local ct = base
  while self:accept("*") do
    ct = M.ptr(ct)
    self:skip_attributes()
  end
  local name, is_func = nil, false
  if self:peek() == "(" and self:peek(1) == "*" then
    -- function pointer: ( * name ) ( params )
    self:next()
    while self:accept("*") do self:skip_attributes() end
    local t = self:peek()
    if t and find(t, "^[%a_][%w_]*$") then name = self:next() end
    while self:peek() == "[" do self:next(); self:const_expr(); self:expect("]") end
    self:expect(")")
    if self:peek() == "(" then self:skip_parens() end
    return M.ptr(VOID), name, false
  end
  local t = self:peek()
  if t and find(t, "^[%a_][%w_]*$") and not QUALIFIERS[t] then name = self:next() end
  if self:peek() == "(" then
    self:skip_parens()
    is_func = true
  end
  local dims = {}
  while self:accept("[") do
    if self:accept("]") then
      dims[#dims + 1] = false
    elseif self:accept("?") then
      self:expect("]")
      dims[#dims + 1] = false
    else
      dims[#dims + 1] = self:const_expr()
      self:expect("]")
    end
  end
  for i = #dims, 1, -1 do ct = M.array(ct, dims[i] or nil) end
  self:skip_attributes()
  return ct, name, is_func
end

-- skips to the ";" that ends the statement (after a declaration that could not be read)
function Parser:skip_statement()
  local depth = 0
  while true do
    local t = self:next()
    if t == nil then return end
    if t == "{" or t == "(" then depth = depth + 1
    elseif t == "}" or t == ")" then depth = depth - 1
    elseif t == ";" and depth <= 0 then return end
  end
end

function Parser:statement()
  local st = self.st
  if self:accept("typedef") then
    local base = self:base()
    repeat
      local ct, name = self:declarator(base)
      if name then st.typedefs[name] = ct end
    until not self:accept(",")
    self:expect(";")
    return
  end
  local base = self:base()
  if self:accept(";") then return end
  repeat
    local ct, name, is_func = self:declarator(base)
    if is_func then
      if name then st.funcs[name] = ct end
    elseif self:accept("=") then
      local v = self:const_expr()
      if name then st.consts[name] = v end
    elseif name then
      st.funcs[name] = st.funcs[name] or false   -- an extern variable: declared, not a function
    end
  until not self:accept(",")
  self:expect(";")
end

-- ffi.cdef: reads every declaration; one it cannot read is skipped (its function name, if any,
-- still counts as declared)
function M.cdef(state, text)
  local p = parser(state, text)
  while p:peek() ~= nil do
    if not p:accept(";") then
      local start = p.pos
      local ok, err = pcall(p.statement, p)
      if not ok then
        if type(err) ~= "table" or not err.cparse then error(err, 0) end
        p.pos = start
        -- a function declaration with types this parser does not know: keep its name
        local depth = 0
        for i = start, #p.toks do
          local t = p.toks[i]
          if t == ";" and depth == 0 then break end
          if t == "(" then
            if depth == 0 then
              local name = p.toks[i - 1]
              if name and find(name, "^[%a_][%w_]*$") then state.funcs[name] = state.funcs[name] or VOID end
            end
            depth = depth + 1
          elseif t == ")" then depth = depth - 1 end
        end
        p:skip_statement()
      end
    end
  end
end

-- a type string ("unsigned char[?]", "struct foo *", "const char *") -> ctype
function M.parse_type(state, text)
  local ct = state.cache[text]
  if ct then return ct end
  local p = parser(state, text)
  local ok, r = pcall(function()
    local base = p:base()
    local t = p:declarator(base)
    if p:peek() ~= nil then p:fail("unexpected '" .. p:peek() .. "'") end
    return t
  end)
  if not ok then
    if type(r) == "table" and r.cparse then error(r.msg, 0) end
    error(r, 0)
  end
  state.cache[text] = r
  return r
end

return M
