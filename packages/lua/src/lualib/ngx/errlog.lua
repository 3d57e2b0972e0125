-- lua-resty-core's ngx.errlog for phasekit: the error_log level (errorLogLevel) and raw_log.
-- get_logs / set_filter_level need lua_capture_error_log, which phasekit does not have: they
-- answer as nginx does without it.
local native = select(2, ...)
local base = require "resty.core.base"
local type, error = type, error
local NO_CAPTURE = "missing the capture error log patch for nginx"

local _M = { version = base.version }

function _M.get_sys_filter_level() return native.errlog_level end

function _M.raw_log(level, msg)
  if type(level) ~= "number" then error("bad argument #1 to 'raw_log' (must be a number)", 2) end
  if type(msg) ~= "string" then error("bad argument #2 to 'raw_log' (must be a string)", 2) end
  if level < 0 or level > 8 then error("bad log level", 2) end
  native.raw_log(level, msg)
end

function _M.set_filter_level(level)
  if not level then return nil, [[missing "level" argument]] end
  return nil, NO_CAPTURE
end

function _M.get_logs() return nil, NO_CAPTURE end

return _M
