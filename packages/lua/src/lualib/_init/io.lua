-- A read-only io library: files under lua.prefix only (native.read_file checks the path), read
-- whole when opened. Writing, popen and the standard streams are refused with an error naming
-- the rule. Also os.getenv for the names lua.env allows. ... = sandbox, preload, native.
local S, _, native = ...
local type, error, tostring, tonumber, setmetatable, select = type, error, tostring, tonumber, setmetatable, select
local find, sub, match = string.find, string.sub, string.match
local read_file, getenv = native.read_file, native.getenv

local RULE = "phasekit's io only reads files under lua.prefix"

local File = {}
local FILE_MT = { __index = File, __name = "FILE*" }
local CLOSED = setmetatable({}, { __mode = "k" })

function FILE_MT.__tostring(f)
  if CLOSED[f] then return "file (closed)" end
  return "file (" .. f.id .. ")"
end

local function checkfile(f, fname)
  if getmetatable(f) ~= FILE_MT then
    error("bad argument #1 to '" .. fname .. "' (FILE* expected, got " .. type(f) .. ")", 3)
  end
  if CLOSED[f] then error("attempt to use a closed file", 3) end
  return f
end

-- one read format at the file's position; nil at end of file
local function read1(f, what)
  local data, pos = f.data, f.pos
  if type(what) == "number" then
    if pos > #data then return nil end
    if what <= 0 then return "" end
    local s = sub(data, pos, pos + what - 1)
    f.pos = pos + #s
    return s
  end
  what = tostring(what):gsub("^%*", "")
  local c = sub(what, 1, 1)
  if c == "a" then
    f.pos = #data + 1
    return sub(data, pos)
  elseif c == "l" or c == "L" then
    if pos > #data then return nil end
    local nl = find(data, "\n", pos, true)
    local stop = nl or #data
    f.pos = stop + 1
    if c == "L" or not nl then return sub(data, pos, stop) end
    return sub(data, pos, stop - 1)
  elseif c == "n" then
    local s, e = find(data, "^%s*[-+]?[%x%.xXeEpP]+", pos)
    if not s then return nil end
    local n = tonumber(match(sub(data, s, e), "^%s*(.-)$"))
    if n == nil then return nil end
    f.pos = e + 1
    return n
  end
  error("bad argument #1 to 'read' (invalid format)", 3)
end

local function readmany(f, ...)
  local n = select("#", ...)
  if n == 0 then return read1(f, "l") end
  local out = {}
  for i = 1, n do
    out[i] = read1(f, (select(i, ...)))
    if out[i] == nil then return table.unpack(out, 1, i) end
  end
  return table.unpack(out, 1, n)
end

function File.read(f, ...)
  checkfile(f, "read")
  return readmany(f, ...)
end

function File.lines(f, ...)
  checkfile(f, "lines")
  local formats, n = { ... }, select("#", ...)
  return function()
    if CLOSED[f] then error("file is already closed", 2) end
    return readmany(f, table.unpack(formats, 1, n))
  end
end

function File.seek(f, whence, offset)
  checkfile(f, "seek")
  whence = whence or "cur"
  offset = offset or 0
  local base
  if whence == "set" then base = 1 elseif whence == "cur" then base = f.pos elseif whence == "end" then base = #f.data + 1
  else error("bad argument #1 to 'seek' (invalid option '" .. tostring(whence) .. "')", 2) end
  local pos = base + offset
  if pos < 1 then return nil, "Invalid argument", 22 end
  f.pos = pos
  return pos - 1
end

function File.close(f)
  checkfile(f, "close")
  CLOSED[f] = true
  f.data = nil
  return true
end

local function refuse(what)
  return function() error(what .. " is not available: " .. RULE, 2) end
end
File.write = refuse("file:write")
File.flush = function(f) checkfile(f, "flush") return f end
File.setvbuf = function(f) checkfile(f, "setvbuf") return true end

local io = {}

function io.open(path, mode)
  if type(path) ~= "string" then
    error("bad argument #1 to 'open' (string expected, got " .. type(path) .. ")", 2)
  end
  mode = mode or "r"
  if type(mode) ~= "string" or not match(mode, "^r?b?$") or mode == "" or mode == "b" then
    if type(mode) == "string" and match(mode, "^[rwa]%+?b?$") then
      error("bad argument #2 to 'open' (mode '" .. mode .. "' is not allowed: " .. RULE .. ")", 2)
    end
    error("bad argument #2 to 'open' (invalid mode)", 2)
  end
  local data, err, code = read_file(path)
  if data == nil then return nil, err, code end
  local f = setmetatable({ data = data, pos = 1, id = path }, FILE_MT)
  return f
end

function io.lines(path, ...)
  if path == nil then error("bad argument #1 to 'lines' (reading standard input is not available: " .. RULE .. ")", 2) end
  local f, err = io.open(path, "r")
  if not f then error(err, 2) end
  local formats, n = { ... }, select("#", ...)
  return function()
    if CLOSED[f] then return nil end
    local v = readmany(f, table.unpack(formats, 1, n))
    if v == nil then File.close(f) end
    return v
  end
end

function io.type(obj)
  if getmetatable(obj) ~= FILE_MT then return nil end
  return CLOSED[obj] and "closed file" or "file"
end

function io.close(f)
  if f == nil then error("bad argument #1 to 'close' (closing standard output is not available: " .. RULE .. ")", 2) end
  return File.close(f)
end

io.write = refuse("io.write")
io.read = refuse("io.read")
io.popen = refuse("io.popen")
io.tmpfile = refuse("io.tmpfile")
io.input = refuse("io.input")
io.output = refuse("io.output")

S.io = io

function S.os.getenv(name)
  if type(name) ~= "string" then
    error("bad argument #1 to 'getenv' (string expected, got " .. type(name) .. ")", 2)
  end
  return getenv(name)
end
