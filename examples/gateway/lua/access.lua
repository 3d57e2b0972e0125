-- access: an API key (X-API-Key header or ?apikey=), then a per-key rate limit (429 + Retry-After).
local cjson = require "cjson"
local config = ngx.shared.config

local key = ngx.var.http_x_api_key or ngx.var.arg_apikey
local owner = key and config:get("key:" .. key)
if not owner then
  ngx.header["WWW-Authenticate"] = 'ApiKey realm="phasekit gateway"'
  return ngx.exit(ngx.HTTP_UNAUTHORIZED)
end

local limit = cjson.decode(config:get("rate_limit") or '{"requests":10,"window":10}')
local count = ngx.shared.limits:incr("rate:" .. owner, 1, 0, limit.window)
if count > limit.requests then
  ngx.header["Retry-After"] = tostring(limit.window)
  return ngx.exit(ngx.HTTP_TOO_MANY_REQUESTS)
end
ngx.ctx.owner = owner
