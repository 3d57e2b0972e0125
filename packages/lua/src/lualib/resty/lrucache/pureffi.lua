-- resty.lrucache.pureffi for phasekit: the same cache as resty.lrucache; new(size, load_factor)
-- takes the load factor and has no use for it (there is no hash table of its own).
local lrucache = require "resty.lrucache"
local _M = setmetatable({ _VERSION = lrucache._VERSION }, { __index = lrucache })
function _M.new(size, load_factor)
  return lrucache.new(size)
end
return _M
