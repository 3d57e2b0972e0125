// Lua source run once per VM: the sandbox user chunks see, the chunk compiler, and error/traceback helpers.

/**
 * Runs in the real global table with `...` = (kill flag table, JS-wait marker light userdata) and
 * returns the helpers the bridge calls by registry ref.
 */
export const BOOT_LUA = String.raw`
local KILL, MARK = ...
local type, pcall, xpcall, error, select, tostring, setmetatable, getmetatable, load, next, rawget, ipairs =
      type, pcall, xpcall, error, select, tostring, setmetatable, getmetatable, load, next, rawget, ipairs
local format, concat, sort = string.format, table.concat, table.sort
local co_create, co_resume, co_yield, co_status, co_close =
      coroutine.create, coroutine.resume, coroutine.yield, coroutine.status, coroutine.close
local traceback, collectgarbage = debug.traceback, collectgarbage
local getinfo, getupvalue, upvaluejoin, getlocal, setlocal =
      debug.getinfo, debug.getupvalue, debug.upvaluejoin, debug.getlocal, debug.setlocal

-- Chunk names of trusted code (run() chunks, bundled modules): their functions' upvalues stay private.
local TRUSTED = { ["=phasekit.vm.boot"] = true }
-- Trusted code registers the chunk names of what it loads itself (bundled Lua modules).
PHASEKIT_TRUST = function(name) TRUSTED[name] = true end

-- After a CPU-limit kill raised where Lua cannot yield, every catch point re-raises: no pcall loop survives it.
local function pass(...)
  if KILL[1] then error(KILL[2], 0) end
  return ...
end

-- Threads driven by the JS host; user code must not resume or close them.
local HOSTED = setmetatable({}, { __mode = "k" })

-- A coroutine inside a handler waits on JS: the host thread yields the same marker to JS, and when JS
-- resumes it, resumes the inner coroutine, so JS waits work in user coroutines as in OpenResty.
local function settle(co, ok, ...)
  if ok and (...) == MARK and co_status(co) == "suspended" then
    return settle(co, co_resume(co, co_yield(MARK)))
  end
  if KILL[1] then error(KILL[2], 0) end
  return ok, ...
end

local function unwrap(co, ok, ...)
  if ok then return ... end
  local e = ...
  if co_status(co) == "dead" then co_close(co) end
  if type(e) == "string" then error(e, 2) end
  error(e, 0)
end

local CO = {}
for k, v in next, coroutine do CO[k] = v end
function CO.resume(co, ...)
  if HOSTED[co] then error("cannot resume a coroutine driven by the host", 2) end
  return settle(co, co_resume(co, ...))
end
function CO.wrap(f)
  local co = co_create(f)
  return function(...) return unwrap(co, settle(co, co_resume(co, ...))) end
end
function CO.close(co)
  if HOSTED[co] then error("cannot close a coroutine driven by the host", 2) end
  return pass(co_close(co))
end

local S = {
  assert = assert, error = error, getmetatable = getmetatable, ipairs = ipairs, next = next, pairs = pairs,
  print = print, rawequal = rawequal, rawget = rawget, rawlen = rawlen, rawset = rawset, select = select,
  tonumber = tonumber, tostring = tostring, type = type, _VERSION = _VERSION,
  string = string, table = table, math = math, utf8 = utf8, coroutine = CO,
  os = { time = os.time, clock = os.clock, date = os.date, difftime = os.difftime },
  debug = { traceback = traceback, getinfo = getinfo },
  unpack = table.unpack,
}
S._G = S

-- debug.getupvalue / upvaluejoin (and the setfenv / getfenv built on them) reach handler code only:
-- functions of trusted code and C functions are refused, so their private state stays out of reach.
local function user_function(f, argn, fname)
  if type(f) ~= "function" then
    error(format("bad argument #%d to '%s' (function expected, got %s)", argn, fname, type(f)), 3)
  end
  local info = getinfo(f, "S")
  return info.what ~= "C" and not TRUSTED[info.source]
end
function S.debug.getupvalue(f, n)
  if not user_function(f, 1, "getupvalue") then return nil end
  return getupvalue(f, n)
end
function S.debug.upvaluejoin(f1, n1, f2, n2)
  if not user_function(f1, 1, "upvaluejoin") then error("bad argument #1 to 'upvaluejoin' (function of trusted code)", 2) end
  if not user_function(f2, 3, "upvaluejoin") then error("bad argument #3 to 'upvaluejoin' (function of trusted code)", 2) end
  return upvaluejoin(f1, n1, f2, n2)
end

local function env_upvalue(f)
  local i = 1
  while true do
    local name = getupvalue(f, i)
    if name == nil then return nil end
    if name == "_ENV" then return i end
    i = i + 1
  end
end
-- The function at stack level "level" of getfenv/setfenv's caller, and, when its _ENV is its first
-- local (a handler chunk's top level takes _ENV as a parameter), that local's value.
local function level_function(level, fname)
  if type(level) ~= "number" or level < 1 then
    error(format("bad argument #1 to '%s' (invalid level)", fname), 3)
  end
  -- levels seen from here: 1 this function, 2 getfenv/setfenv, 3 their caller (level 1)
  local info = getinfo(level + 2, "f")
  if info == nil then error(format("bad argument #1 to '%s' (invalid level)", fname), 3) end
  local name, value = getlocal(level + 2, 1)
  return info.func, name == "_ENV", value
end
-- Lua 5.1's getfenv / setfenv on 5.4: a function's environment is its _ENV upvalue.
function S.getfenv(f)
  if f == nil then f = 1 end
  if f == 0 then return S end
  if type(f) == "number" then
    local fn, local_env, env = level_function(f, "getfenv")
    if local_env then return env end
    f = fn
  elseif type(f) ~= "function" then
    error("bad argument #1 to 'getfenv' (number expected, got " .. type(f) .. ")", 2)
  end
  if not user_function(f, 1, "getfenv") then return S end
  local i = env_upvalue(f)
  if i == nil then return S end
  local _, env = getupvalue(f, i)
  return env
end
function S.setfenv(f, env)
  if type(env) ~= "table" then
    error("bad argument #2 to 'setfenv' (table expected, got " .. type(env) .. ")", 2)
  end
  if type(f) == "number" then
    local fn, local_env = level_function(f, "setfenv")
    if local_env then
      setlocal(f + 1, 1, env)   -- levels seen from here: 1 setfenv, 2 its caller
      return fn
    end
    f = fn
  elseif type(f) ~= "function" then
    error("bad argument #1 to 'setfenv' (number expected, got " .. type(f) .. ")", 2)
  end
  if not user_function(f, 1, "setfenv") then error("'setfenv' cannot change environment of given object", 2) end
  local i = env_upvalue(f)
  if i ~= nil then
    local holder = function() return env end
    upvaluejoin(f, i, holder, 1)
  end
  return f
end
function S.pcall(f, ...) return pass(pcall(f, ...)) end
function S.xpcall(f, h, ...) return pass(xpcall(f, h, ...)) end
-- __gc runs with hooks off, so a finalizer could spin past the CPU limit (LuaJIT ignores __gc on tables anyway).
function S.setmetatable(t, mt)
  if type(mt) == "table" and rawget(mt, "__gc") ~= nil then
    error("__gc metamethods are not supported in handler code", 2)
  end
  return setmetatable(t, mt)
end
-- Text chunks only; the environment defaults to the sandbox globals.
function S.load(chunk, name, _, ...)
  local env = S
  if select("#", ...) > 0 then env = ... end
  return pass(load(chunk, name, "t", env))
end
-- Lua 5.1's loadstring(text, name).
function S.loadstring(chunk, name)
  return pass(load(chunk, name, "t", S))
end
local GC_ALLOWED = { collect = true, count = true, step = true, isrunning = true }
function S.collectgarbage(opt, ...)
  if opt == nil or GC_ALLOWED[opt] then return collectgarbage(opt, ...) end
  error("bad argument #1 to 'collectgarbage' (option '" .. tostring(opt) .. "' is not allowed)", 2)
end

local ENV_MT = { __index = S }
-- The handler takes its _ENV as a first parameter: the host pushes (handler, env, ...args), so a run
-- needs no per-run closure. Everything on line 1, so error lines match the source; the handler's own
-- varargs stay its own.
local PREFIX = "return function(_ENV, ...) "

local function compile(src, name)
  name = "=" .. name
  local f, err = load(src, name, "t", S)      -- Lua's own message for the source as written
  if not f then return nil, err end
  f, err = load(PREFIX .. src .. "\nend", name, "t", S)
  if not f then return nil, err end
  return f()
end

local function load_trusted(src, name)
  TRUSTED["=" .. name] = true
  return load(src, "=" .. name, "t")
end

local describe
local function value_str(v, depth)
  local t = type(v)
  if t == "string" then return format("%q", v) end
  if t == "table" then return describe(v, depth) end
  local ok, s = pcall(tostring, v)
  return ok and s or "?"
end
local function key_order(a, b)
  local ta, tb = type(a), type(b)
  if ta ~= tb then return ta < tb end
  if ta == "number" or ta == "string" then return a < b end
  return false
end
-- Readable text for any error value: error({code = 1}) is logged as {code = 1}.
function describe(e, depth)
  local t = type(e)
  if t == "string" then return e end
  if t ~= "table" then return value_str(e, depth) end
  local mt = getmetatable(e)
  if mt ~= nil and (type(mt) ~= "table" or rawget(mt, "__tostring") ~= nil) then
    local ok, s = pcall(tostring, e)
    if ok and type(s) == "string" then return s end
  end
  if depth > 2 then return "{...}" end
  local keys = {}
  for k in next, e do
    keys[#keys + 1] = k
    if #keys > 64 then break end
  end
  sort(keys, key_order)
  local parts = {}
  for i, k in ipairs(keys) do
    if i > 20 then parts[#parts + 1] = "..." break end
    local ks = (type(k) == "string" and k:match("^[%a_][%w_]*$")) and k or "[" .. value_str(k, depth + 1) .. "]"
    parts[#parts + 1] = ks .. " = " .. value_str(rawget(e, k), depth + 1)
  end
  return "{" .. concat(parts, ", ") .. "}"
end

local function failure(co, e)
  local msg = describe(e, 0)
  return msg, traceback(co, msg)
end

local function stats()
  local n = 0
  for _ in next, debug.getregistry() do n = n + 1 end
  return collectgarbage("count"), n
end

return {
  sandbox = S, env_mt = ENV_MT, hosted = HOSTED, compile = compile, load = load_trusted,
  failure = failure, describe = function(e) return describe(e, 0) end, stats = stats,
  gc = function() collectgarbage() collectgarbage() end,
}
`;
