-- content phase: describe the request as JSON.
local cjson = require("cjson")

ngx.header.content_type = "application/json"
ngx.say(cjson.encode({
  path = ngx.var.uri,
  method = ngx.req.get_method(),
  args = ngx.req.get_uri_args(),
}))
