-- demo-plan: the demo's own plugin, in Kong's layout. It runs after key-auth (priority 1250) and
-- before rate-limiting (910): it reads the consumer key-auth found, gives the request a plan
-- (sent upstream as X-Plan), refuses blocked consumers, and names the backend in X-Upstream.
local DemoPlan = {
  PRIORITY = 1000,
  VERSION = "1.0.0",
}

function DemoPlan:access(conf)
  local consumer = ngx.var.http_x_consumer_username
  local plan = consumer and conf.plans[consumer] or conf.default_plan
  if plan == "blocked" then
    ngx.status = 403
    ngx.header["Content-Type"] = "application/json; charset=utf-8"
    ngx.print('{"message":"this consumer is blocked"}')
    return ngx.exit(403)
  end
  ngx.req.set_header(conf.header, plan)
  ngx.ctx.plan = plan
end

function DemoPlan:header_filter(conf)
  if ngx.ctx.plan then ngx.header[conf.header] = ngx.ctx.plan end
  ngx.header["X-Upstream"] = ngx.var.upstream_addr
end

return DemoPlan
