-- lua-resty-core's ngx.req module: add_header appends a request header value.
local base = require "resty.core.base"
local set_req_header = require("resty.core.request").set_req_header
local _M = { version = base.version }
function _M.add_header(key, value)
  set_req_header(key, value, false)
end
return _M
