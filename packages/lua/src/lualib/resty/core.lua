-- lua-resty-core's entry module: loads the resty.core.* modules (phasekit's ngx API is native).
for _, m in ipairs({ "var", "worker", "regex", "shdict", "time", "hash", "uri", "exit", "base64", "request",
  "response", "phase", "ndk", "socket", "coroutine", "param", "misc", "ctx" }) do
  require("resty.core." .. m)
end
local base = require "resty.core.base"
return { version = base.version }
