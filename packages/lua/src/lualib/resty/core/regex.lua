-- lua-resty-core's resty.core.regex: phasekit's ngx.re is native; this module loads and offers
-- the cache check some libraries call.
local base = require "resty.core.base"
local _M = { version = base.version }
function _M.set_buf_grow_ratio() end
function _M.is_regex_cache_empty() return false end
return _M
