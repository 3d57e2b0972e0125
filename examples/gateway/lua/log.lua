-- log: per-upstream request count and total response time, for the average at /status.
local stats = ngx.shared.stats
local addr = ngx.var.upstream_addr
local seconds = tonumber((ngx.var.upstream_response_time or ""):match("[%d.]+$") or "")
if addr and seconds then
  local peer = addr:match("[^, ]+$")
  stats:incr("count:" .. peer, 1, 0)
  stats:incr("time:" .. peer, seconds, 0)
end
stats:incr("status:" .. ngx.var.status, 1, 0)
