-- lua-resty-core's resty.core.misc: loads; extending the ngx table with magic keys is not offered.
local base = require "resty.core.base"
local _M = { _VERSION = base.version }
local function refused() error("phasekit does not support registering ngx magic keys", 2) end
_M.register_ngx_magic_key_getter = refused
_M.register_ngx_magic_key_setter = refused
return _M
