-- The digest objects behind resty.md5 / resty.sha1 / resty.sha224 ... (internal module):
-- new() -> object, :update(s [, len]) -> true, :final() -> the binary digest, :reset() -> true.
local native = select(2, ...)
local setmetatable, sub, concat = setmetatable, string.sub, table.concat
local digest = native.digest

local M = {}

-- with_len: update(s, len) hashes the first len bytes (resty.md5); the sha modules take s whole
function M.module(alg, with_len)
  local _M = { _VERSION = "0.14" }
  local mt = { __index = _M }
  function _M.new(self)
    return setmetatable({ parts = {}, n = 0 }, mt)
  end
  function _M.update(self, s, len)
    if len and with_len then s = sub(s, 1, len) end
    local n = self.n + 1
    self.parts[n] = s
    self.n = n
    return true
  end
  function _M.final(self)
    local data = concat(self.parts, "", 1, self.n)
    self.parts, self.n = { data }, 1
    return digest(alg, data)
  end
  function _M.reset(self)
    self.parts, self.n = {}, 0
    return true
  end
  return _M
end

return M
