-- lua-resty-core's resty.core.response: set_resp_header(tp, key, value, no_override).
local base = require "resty.core.base"
local type = type
local _M = { version = base.version }

-- adds value(s) after the header's current values
local function append(cur, value)
  local out = {}
  if type(cur) == "table" then for i = 1, #cur do out[#out + 1] = cur[i] end else out[1] = cur end
  if type(value) == "table" then for i = 1, #value do out[#out + 1] = value[i] end else out[#out + 1] = value end
  return out
end
_M._append = append

function _M.set_resp_header(tp, key, value, no_override)
  if no_override then
    local cur = ngx.header[key]
    if cur ~= nil and value ~= nil then value = append(cur, value) end
  end
  ngx.header[key] = value
end
return _M
