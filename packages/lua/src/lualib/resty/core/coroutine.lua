-- lua-resty-core's resty.core.coroutine: phasekit's ngx API is native, so this module only loads.
local base = require "resty.core.base"
return { version = base.version }
