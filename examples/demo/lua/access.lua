-- access phase: an API key, then 5 requests per 10 seconds per client (a shared-dict counter).
if ngx.var.arg_key ~= "demo" then
  return ngx.exit(ngx.HTTP_UNAUTHORIZED)
end

local count = ngx.shared.limits:incr("rate:" .. ngx.var.remote_addr, 1, 0, 10)
if count > 5 then
  ngx.header["Retry-After"] = "10"
  return ngx.exit(ngx.HTTP_TOO_MANY_REQUESTS)
end
