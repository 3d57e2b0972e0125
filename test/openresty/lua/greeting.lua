-- A module for the require cases: a function, and state kept while the module stays loaded.
local _M = {}
local n = 0

function _M.hello(name)
  return "hello, " .. name
end

function _M.count()
  n = n + 1
  return n
end

return _M
