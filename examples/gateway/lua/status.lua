-- /status: requests and average upstream response time per backend, and statuses seen.
local stats = ngx.shared.stats
local keys = stats:get_keys(0)
table.sort(keys)
for _, key in ipairs(keys) do
  local peer = key:match("^count:(.+)$")
  if peer then
    local count = stats:get(key)
    local avg = stats:get("time:" .. peer) / count
    ngx.say(peer, " requests=", count, " avg_upstream_ms=", string.format("%.1f", avg * 1000))
  end
end
for _, key in ipairs(keys) do
  local status = key:match("^status:(%d+)$")
  if status then ngx.say("status ", status, " ", stats:get(key)) end
end
