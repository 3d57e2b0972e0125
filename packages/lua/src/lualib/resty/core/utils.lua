-- lua-resty-core's resty.core.utils: str_replace_char(str, find, replace).
local base = require "resty.core.base"
local find, gsub, error = string.find, string.gsub, error
local _M = { version = base.version }
function _M.str_replace_char(str, fnd, replace)
  if #fnd ~= 1 or #replace ~= 1 then error("bad find/replace: one character each", 2) end
  if not find(str, fnd, 1, true) then return str end
  return (gsub(str, fnd:gsub("%p", "%%%0"), (replace:gsub("%%", "%%%%"))))
end
return _M
