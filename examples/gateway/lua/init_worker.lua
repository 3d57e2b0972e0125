-- init_worker: a timer (re)loads the route config into a shared dict, now and every 30 s.
local cjson = require "cjson"

local function load(premature)
  if premature then return end
  local routes = require "routes"
  local config = ngx.shared.config
  for key, owner in pairs(routes.api_keys) do
    config:set("key:" .. key, owner)
  end
  config:set("rate_limit", cjson.encode(routes.rate_limit))
  config:set("loaded_at", ngx.now())
end

assert(ngx.timer.at(0, load))
assert(ngx.timer.every(30, load))
