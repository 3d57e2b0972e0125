-- balancer: round-robin across the backends (a shared-dict counter), one retry on failure.
local balancer = require "ngx.balancer"
local cjson = require "cjson"

local servers = cjson.decode(ngx.shared.config:get("servers"))
local state = balancer.get_last_failure()
if not state then
  balancer.set_more_tries(1)
end
local n = ngx.shared.stats:incr("rr", 1, 0)
local host, port = servers[n % #servers + 1]:match("^(.+):(%d+)$")
assert(balancer.set_current_peer(host, tonumber(port)))
