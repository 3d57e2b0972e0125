-- lua-resty-string's resty.string for phasekit: to_hex and atoi.
local byte, fmt, gsub, find, tonumber = string.byte, string.format, string.gsub, string.find, tonumber
local _M = { _VERSION = "0.14" }

function _M.to_hex(s)
  return (gsub(s, ".", function(c) return fmt("%02x", byte(c)) end))
end

-- nginx's ngx_atoi: the decimal number, or -1 for an empty string or a non-digit
function _M.atoi(s)
  if #s == 0 or find(s, "[^%d]") then return -1 end
  return tonumber(s)
end

return _M
