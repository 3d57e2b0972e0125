-- lua-resty-core's ngx.base64: URL-safe base64 without padding.
local base = require "resty.core.base"
local type, error, tostring = type, error, tostring
local gsub, find = string.gsub, string.find
local _M = { version = base.version }

local TO_URL = { ["+"] = "-", ["/"] = "_" }
local FROM_URL = { ["-"] = "+", ["_"] = "/" }

function _M.encode_base64url(s)
  if type(s) ~= "string" then error("must provide a string", 2) end
  local b = ngx.encode_base64(s, true)
  return (gsub(b, "[+/]", TO_URL))
end

function _M.decode_base64url(s)
  if type(s) ~= "string" then error("string argument only", 2) end
  if find(s, "[^%w%-_]") or #s % 4 == 1 then return nil, "invalid input" end
  local b = gsub(s, "[-_]", FROM_URL)
  b = b .. string.rep("=", (4 - #b % 4) % 4)
  local out = ngx.decode_base64(b)
  if out == nil then return nil, "invalid input" end
  return out
end

return _M
