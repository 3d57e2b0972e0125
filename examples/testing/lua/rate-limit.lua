-- access phase: at most $rate_limit requests per $rate_window seconds per client, counted in
-- ngx.shared.limits; past the limit, 429 with Retry-After (seconds until the window ends).
local limit = tonumber(ngx.var.rate_limit) or 10
local window = tonumber(ngx.var.rate_window) or 60
local limits = ngx.shared.limits
local key = "rate:" .. ngx.var.remote_addr

-- The first request of a window creates the counter with the window as its TTL.
local count, err = limits:incr(key, 1, 0, window)
if not count then
  -- Fail open: a full or broken dict must not take the site down.
  ngx.log(ngx.ERR, "rate limit: ", err)
  return
end

if count > limit then
  local ttl = limits:ttl(key)
  ngx.header["Retry-After"] = math.max(1, math.ceil(ttl or window))
  return ngx.exit(ngx.HTTP_TOO_MANY_REQUESTS)
end
