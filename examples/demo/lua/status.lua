-- counters kept by the log phase in a shared dict.
local stats = ngx.shared.stats
ngx.say("started ", stats:get("started"))

local keys = stats:get_keys(0)
table.sort(keys)
for _, key in ipairs(keys) do
  if key:sub(1, 7) == "status:" then
    ngx.say(key, " ", stats:get(key))
  end
end
