-- lua-resty-core's ngx.resp: add_header appends a response header value.
local base = require "resty.core.base"
local set_resp_header = require("resty.core.response").set_resp_header
local _M = { version = base.version }
function _M.add_header(key, value)
  set_resp_header(nil, key, value, true)
end
return _M
