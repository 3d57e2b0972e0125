-- OpenResty's resty.lock for phasekit: a non-blocking lock on a shared dict key (ngx.shared
-- add with an expiry), waiting with ngx.sleep and a growing step. An object holds one key at a
-- time. A lock object that is garbage collected while locked is not unlocked (the key expires
-- after exptime): unlock explicitly.
local setmetatable, min, max = setmetatable, math.min, math.max

local _M = { _VERSION = "0.08" }
local mt = { __index = _M }

function _M.new(_, dict_name, opts)
  local dict = ngx.shared[dict_name]
  if not dict then return nil, "dictionary not found" end
  opts = opts or {}
  local exptime = opts.exptime or 30
  local timeout, step = opts.timeout, opts.step
  if timeout then
    timeout = min(timeout, exptime)
    if step then step = min(step, timeout) end
  end
  return setmetatable({
    dict = dict,
    exptime = exptime,
    timeout = timeout or 5,
    step = step or 0.001,
    ratio = opts.ratio or 2,
    max_step = opts.max_step or 0.5,
    key = nil,
  }, mt)
end

-- elapsed seconds (0 when the key was free), or nil and "locked" / "timeout" / the dict's error
function _M.lock(self, key)
  if not key then return nil, "nil key" end
  if self.key ~= nil then return nil, "locked" end
  local dict, exptime = self.dict, self.exptime
  local ok, err = dict:add(key, true, exptime)
  if ok then
    self.key = key
    return 0
  end
  if err ~= "exists" then return nil, err end
  local step, left, elapsed = self.step, self.timeout, 0
  while left > 0 do
    ngx.sleep(step)
    elapsed = elapsed + step
    left = left - step
    ok, err = dict:add(key, true, exptime)
    if ok then
      self.key = key
      return elapsed
    end
    if err ~= "exists" then return nil, err end
    if left <= 0 then break end
    step = min(max(0.001, step * self.ratio), left, self.max_step)
  end
  return nil, "timeout"
end

function _M.unlock(self)
  local key = self.key
  if key == nil then return nil, "unlocked" end
  local ok, err = self.dict:delete(key)
  if not ok then return nil, err end
  self.key = nil
  return 1
end

function _M.expire(self, time)
  if self.key == nil then return nil, "unlocked" end
  local ok, err = self.dict:replace(self.key, true, time or self.exptime)
  if not ok then return nil, err end
  return true
end

return _M
