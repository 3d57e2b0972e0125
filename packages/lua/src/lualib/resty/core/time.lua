-- lua-resty-core's resty.core.time: ngx.time/now/... are native; the monotonic clock is here.
local native = select(2, ...)
local base = require "resty.core.base"
local monotonic_msec = native.monotonic_msec
return {
  version = base.version,
  monotonic_msec = monotonic_msec,
  monotonic_time = function() return monotonic_msec() / 1000 end,
}
