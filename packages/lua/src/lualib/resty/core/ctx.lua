-- lua-resty-core's resty.core.ctx: get_ctx_table returns the request's ngx.ctx.
local base = require "resty.core.base"
local _M = { version = base.version }
function _M.get_ctx_table(ctx)
  if ctx ~= nil then ngx.ctx = ctx end
  return ngx.ctx
end
return _M
