// The Lua side of ngx.re: lua-resty-core's regex.lua and ngx/re.lua behaviour (argument checks,
// ctx.pos, captures tables, nth, gmatch, split, sub/gsub with a function) over the JS primitives
// js_exec (exec.ts), js_gsub (gsub.ts) and js_opt (install.ts).
export const RE_LUA = String.raw`
local ngx, js_exec, js_gsub, js_opt = ...
local type, tostring, error, setmetatable, select, fmt, sub, find, mtype, max, concat =
  type, tostring, error, setmetatable, select, string.format, string.sub, string.find, math.type, math.max, table.concat
local pack = table.pack

local function tostr(v)
  if type(v) == "number" then return mtype(v) == "integer" and fmt("%d", v) or fmt("%.14g", v) end
  return tostring(v)
end

-- resty.core raises these from inside regex.lua; here they point at the caller of the ngx.re function
local function check(regex, opts, level)
  if type(regex) ~= "string" then
    error("attempt to get length of local 'regex' (a " .. type(regex) .. " value)", level + 1)
  end
  if opts == nil then return "" end
  if type(opts) ~= "string" then
    error("attempt to get length of local 'opts' (a " .. type(opts) .. " value)", level + 1)
  end
  local bad = find(opts, "[^ojisumUxdaDJ]")
  if bad then
    error(fmt('unknown flag "%s" (flags "%s")', sub(opts, bad, bad), opts), level + 1)
  end
  return opts
end

-- A named capture: res[name] is capture n; with D, a list of every matched capture of that name.
local function add_name(res, dup, name, n)
  local cap = res[n]
  if dup then
    if cap then
      local old = res[name]
      if old then old[#old + 1] = cap else res[name] = { cap } end
    end
  else
    res[name] = cap
  end
end

-- the captures table from js_exec's mode-1 results (after rc): ncap, offsets..., nnames, names...
local function collect(subj, res, dup, ncap, ...)
  res = res or {}
  for i = 0, ncap do
    local from, to = select(2 * i + 1, ...)
    if from >= 0 then res[i] = sub(subj, from + 1, to) else res[i] = false end
  end
  local at = 2 * ncap + 3
  for k = 1, (select(at, ...)) do
    local name, n = select(at + 2 * k - 1, ...)
    add_name(res, dup, name, n)
  end
  return res
end

local function start_pos(ctx)
  if not ctx then return 0 end
  local pos = ctx.pos
  if not pos or pos <= 0 then return 0 end
  return (pos - 1) // 1
end

local function is_dup(opts)
  return find(opts, "D", 1, true) ~= nil
end

local function match_result(subj, res, dup, ctx, rc, ncap, ...)
  if rc == nil then return nil end
  if rc == false then return nil, ncap end
  if ctx then ctx.pos = select(2, ...) + 1 end
  return collect(subj, res, dup, ncap, ...)
end

function ngx.re.match(subj, regex, opts, ctx, res)
  subj = tostr(subj)
  opts = check(regex, opts, 2)
  return match_result(subj, res, is_dup(opts), ctx, js_exec(regex, opts, subj, start_pos(ctx), 1))
end

function ngx.re.find(subj, regex, opts, ctx, nth)
  subj = tostr(subj)
  opts = check(regex, opts, 2)
  local rc, ncap, from, to, f, t = js_exec(regex, opts, subj, start_pos(ctx), 2, nth)
  if rc == nil then return nil end
  if rc == false then return nil, nil, ncap end
  if ctx then ctx.pos = to + 1 end
  if not nth or nth < 0 then nth = 0 end
  if nth > ncap then return nil, nil, "nth out of bound" end
  if nth >= rc then return nil, nil end
  if f < 0 or t < 0 then return nil, nil end
  return f + 1, t
end

-- Fetches successive matches from byte pos into queue q (captures tables, and their 0-based spans
-- in q.from / q.to); returns the next position (-1 when exhausted), or nil, err.
local function fetch(q, subj, regex, opts, pos, dup, want)
  local r = pack(js_exec(regex, opts, subj, pos, 4, want))
  if r[1] == nil then return -1 end
  if r[1] == false then return nil, r[2] end
  local count, ncap, nnames = r[1], r[2], r[3]
  local k = 4 + 2 * nnames
  for _ = 1, count do
    local res = {}
    for i = 0, ncap do
      local from, to = r[k + 1 + 2 * i], r[k + 2 + 2 * i]
      if from >= 0 then res[i] = sub(subj, from + 1, to) else res[i] = false end
    end
    for j = 1, nnames do
      add_name(res, dup, r[2 + 2 * j], r[3 + 2 * j])
    end
    q.n = q.n + 1
    q[q.n], q.from[q.n], q.to[q.n] = res, r[k + 1], r[k + 2]
    k = k + 1 + 2 * (ncap + 1)
  end
  return r[k]
end

-- batches grow from 16 to 1024 matches, so that short loops stay cheap and long ones cross rarely
local function next_batch(n) return n < 1024 and n * 2 or n end

local gmatch_mt = {}

gmatch_mt.__call = function(self)
  local q = self._q
  if q.i >= q.n then
    local pos = self._pos
    if pos < 0 then return nil end
    q.i, q.n, q.from, q.to = 0, 0, {}, {}
    local want = self._want
    self._want = next_batch(want)
    local nextpos, err = fetch(q, self._subj, self._regex, self._opts, pos, self._dup, want)
    if nextpos == nil then self._pos = -1 return nil, err end
    self._pos = nextpos
    if q.n == 0 then return nil end
  end
  q.i = q.i + 1
  local res = q[q.i]
  q[q.i] = nil
  return res
end

function ngx.re.gmatch(subj, regex, opts)
  subj = tostr(subj)
  opts = check(regex, opts, 2)
  -- compile now, so that a bad pattern is reported here as OpenResty does
  local ok, err = js_exec(regex, opts, "", 0, 0)
  if not ok then return nil, err end
  return setmetatable({ _subj = subj, _regex = regex, _opts = opts, _pos = 0, _dup = is_dup(opts),
    _want = 16, _q = { i = 0, n = 0 } }, gmatch_mt)
end

local function sub_fn(subj, regex, replace, opts, global)
  local pos, cp_pos, count, buf, want = 0, 0, 0, {}, global and 16 or 1
  local dup = is_dup(opts)
  while pos >= 0 do
    local q = { n = 0, from = {}, to = {} }
    local nextpos, err = fetch(q, subj, regex, opts, pos, dup, want)
    if nextpos == nil then return nil, nil, err end
    for i = 1, q.n do
      count = count + 1
      buf[#buf + 1] = sub(subj, cp_pos + 1, q.from[i])
      buf[#buf + 1] = tostr(replace(q[i]))
      cp_pos = q.to[i]
    end
    if not global then break end
    pos, want = nextpos, next_batch(want)
  end
  if count == 0 then return subj, 0 end
  buf[#buf + 1] = sub(subj, cp_pos + 1)
  return concat(buf), count
end

-- ngx.re.sub/gsub tail-call this, so level 2 here is their caller
local function re_sub(subj, regex, replace, opts, global)
  opts = check(regex, opts, 2)
  subj = tostr(subj)
  if type(replace) == "function" then return sub_fn(subj, regex, replace, opts, global) end
  replace = tostr(replace)
  local out, count, pos, cp = js_gsub(subj, regex, opts, replace, global, 0, 0)
  if out == nil then return subj, 0 end
  if out == false then return nil, nil, count end
  if pos < 0 then return out, count end
  -- a long run hands back to Lua now and then: carry on where it stopped
  local buf, total = { out }, count
  while pos >= 0 do
    out, count, pos, cp = js_gsub(subj, regex, opts, replace, global, pos, cp)
    if out == false then return nil, nil, count end
    buf[#buf + 1], total = out, total + count
  end
  return concat(buf), total
end

function ngx.re.sub(subj, regex, replace, opts)
  return re_sub(subj, regex, replace, opts, false)
end

function ngx.re.gsub(subj, regex, replace, opts)
  return re_sub(subj, regex, replace, opts, true)
end

-- lua-resty-core's ngx/re.lua
local M = { version = "0.1.25" }

local function split_helper(subj, regex, opts, ctx)
  local rc, ncap, from, to, c1f, c1t = js_exec(regex, opts, subj, max(ctx.pos, 0), 3)
  if rc == nil then return nil, nil, nil end
  if rc == false then return nil, nil, nil, ncap end
  if from < 0 or to < 0 then return nil, nil, nil end
  if from == to then ctx.pos = to + 1 else ctx.pos = to end
  from, to = from + 1, to + 1
  if ncap > 0 and rc > 1 then return from, to, sub(subj, c1f + 1, c1t) end
  return from, to
end

local split_ctx = {}

-- drops the trailing empty fields (when the whole subject was consumed without a max)
local function trim_empty(res, res_idx)
  for i = res_idx, 1, -1 do
    if res[i] ~= "" then return i end
    res[i] = nil
  end
  return res_idx
end

local function split_loop(subj, regex, opts, ctx, max_, res)
  local len = #subj
  local sub_idx, res_idx, count, last_empty_match = ctx.pos, 0, 1, nil
  ctx.pos = sub_idx - 1
  while max_ <= 0 or count < max_ do
    local from, to, capture, e = split_helper(subj, regex, opts, ctx)
    if e then return nil, e end
    if not from then break end
    if last_empty_match then sub_idx = last_empty_match end
    if from == to then last_empty_match = from end
    if from > sub_idx or not last_empty_match then
      count = count + 1
      res_idx = res_idx + 1
      res[res_idx] = sub(subj, sub_idx, from - 1)
      if capture then
        res_idx = res_idx + 1
        res[res_idx] = capture
      end
      sub_idx = to
      if sub_idx > len then break end
    end
  end
  if max_ <= 0 and sub_idx > len then
    res_idx = trim_empty(res, res_idx)
  else
    res_idx = res_idx + 1
    res[res_idx] = sub(subj, sub_idx)
  end
  res[res_idx + 1] = nil
  return res
end

function M.split(subj, regex, opts, ctx, max_, res)
  subj = tostr(subj)
  if not ctx then
    ctx = split_ctx
    ctx.pos = 1
  elseif not ctx.pos then
    ctx.pos = 1
  end
  max_ = max_ or 0
  if not res then
    res = {}
  elseif type(res) ~= "table" then
    error("res is not a table", 2)
  end
  if ctx.pos > #subj then
    res[1] = nil
    return res
  end
  opts = check(regex, opts, 2)
  local ok, err = js_exec(regex, opts, "", 0, 0)
  if not ok then return nil, err end
  return split_loop(subj, regex, opts, ctx, max_, res)
end

-- "jit_stack_size" as lua-resty-core (phasekit has no JIT: nothing to size); "match_limit" is
-- phasekit's: lua_regex_match_limit at run time, for this VM (0: PCRE's default, 10,000,000).
function M.opt(option, value)
  if option == "jit_stack_size" then
    if not js_opt("cache_empty") then
      error("changing jit stack size is not allowed when some regexs have already been compiled and cached", 2)
    end
    return
  end
  if option == "match_limit" then
    if mtype(value) == nil or value < 0 or value ~= value // 1 or value > 4294967295 then
      error("bad argument #2 to 'opt' (non-negative integer expected, got " .. tostring(value) .. ")", 2)
    end
    js_opt("match_limit", value)
    return
  end
  error("unrecognized option name", 2)
end

ngx.re.opt = M.opt

return M
`;
