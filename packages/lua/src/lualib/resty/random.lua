-- lua-resty-string's resty.random for phasekit: bytes(len [, strong]) from node:crypto's
-- CSPRNG (strong or not, the bytes are cryptographically strong).
local native = select(2, ...)
local random_bytes = native.random_bytes
local _M = { _VERSION = "0.14" }
function _M.bytes(len, strong)
  return random_bytes(len)
end
return _M
