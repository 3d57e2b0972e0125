-- lua-resty-core's resty.core.worker: phasekit's ngx.worker is native, so this module only loads.
local base = require "resty.core.base"
return { _VERSION = base.version }
