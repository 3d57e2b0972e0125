-- lua-resty-core's resty.core.request: set_req_header(name, value, override).
local base = require "resty.core.base"
local response = require "resty.core.response"
local _M = { version = base.version }
function _M.set_req_header(name, value, override)
  if override == false then
    local cur = ngx.req.get_headers()[name]
    if cur ~= nil and value ~= nil then value = response._append(cur, value) end
  end
  ngx.req.set_header(name, value)
end
return _M
