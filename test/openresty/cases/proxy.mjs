// proxy_pass to a backend location on the same server ($PORT), upstream variables, the balancer.
import { locs } from '../case-helpers.mjs';

/** The backend: answers with what it received. */
const BACKEND = {
  match: '/backend',
  content: 'ngx.req.read_body()\nngx.header["X-Backend"] = "yes"\nngx.say(ngx.req.get_method(), " ", ngx.var.request_uri, " host=", ngx.var.http_host == "127.0.0.1:" .. ngx.var.server_port, " x=", tostring(ngx.var.http_x_added), " body=", tostring(ngx.req.get_body_data()))',
};
const p = (name, front, requests = [{ path: '/front' }], extra = {}) => locs(`proxy: ${name}`, [...front, BACKEND, ...(extra.more ?? [])], requests, extra.case ?? {});
const FRONT = (opts = {}) => ({ match: '/front', proxyPass: 'http://127.0.0.1:$PORT/backend', ...opts });

export default [
  p('a GET', [FRONT()]),
  p('a POST body', [FRONT()], [{ method: 'POST', path: '/front', body: 'posted' }]),
  p('the query string', [FRONT()], [{ path: '/front?a=1&b=2' }]),
  p('the location prefix is replaced by the proxy_pass uri', [{ match: '/front/', proxyPass: 'http://127.0.0.1:$PORT/backend/' }], [{ path: '/front/x/y?q=1' }]),
  locs('proxy: without a uri part the request uri goes as sent', [{ match: '/direct', access: 'if ngx.var.http_x_proxied then ngx.say("proxied: ", ngx.var.request_uri) return ngx.exit(200) end\nngx.req.set_header("X-Proxied", "1")', proxyPass: 'http://127.0.0.1:$PORT' }], [{ path: '/direct/z%20?q=1' }]),
  p('a request header set in rewrite', [FRONT({ rewrite: 'ngx.req.set_header("X-Added", "by rewrite")' })]),
  p('the uri set in rewrite', [{ match: '/front', rewrite: 'ngx.req.set_uri("/backend/changed")', proxyPass: 'http://127.0.0.1:$PORT/backend' }], [{ path: '/front' }], { case: { log: true } }),
  p('access may deny before the proxy', [FRONT({ access: 'if ngx.var.arg_deny then return ngx.exit(403) end' })], [{ path: '/front?deny=1' }, { path: '/front' }]),
  p('header_filter on the proxied response', [FRONT({ headerFilter: 'ngx.header["X-Front"] = ngx.header["X-Backend"] .. "+front"' })]),
  p('body_filter on the proxied response', [FRONT({ headerFilter: 'ngx.header.content_length = nil', bodyFilter: 'ngx.arg[1] = string.upper(ngx.arg[1])' })]),
  p('the backend status passes through', [{ match: '/front', proxyPass: 'http://127.0.0.1:$PORT/missing-backend' }]),
  p('a backend with a length', [{ match: '/front', proxyPass: 'http://127.0.0.1:$PORT/sized' }], [{ path: '/front' }], { more: [{ match: '/sized', content: 'ngx.header.content_length = 6\nngx.print("sized\\n")' }] }),
  p('a dead upstream is 502', [{ match: '/front', proxyPass: 'http://127.0.0.1:$DEAD_PORT/backend' }]),
  p('upstream variables in header_filter', [FRONT({ headerFilter: 'ngx.header["X-Upstream-Status"] = ngx.var.upstream_status\nngx.header["X-Upstream-Addr"] = tostring(ngx.var.upstream_addr:match("^127%.0%.0%.1:%d+$") ~= nil)' })]),
  p('$upstream_response_time has 3 decimals', [FRONT({ log: 'ngx.shared.d:set("urt", tostring(ngx.var.upstream_response_time:match("^%d+%.%d%d%d$") ~= nil))' })], [{ path: '/front' }, { path: '/check' }], { more: [{ match: '= /check', content: 'ngx.say(ngx.shared.d:get("urt"))' }], case: { sharedDicts: { d: '1m' } } }),
  p('$upstream_addr after a dead peer and a live one', [{ match: '/front', proxyPass: 'http://two/backend', headerFilter: 'ngx.header["X-Tries"] = select(2, ngx.var.upstream_addr:gsub(",", ",")) + 1' }], [{ path: '/front' }], { case: { upstreams: { two: { servers: ['127.0.0.1:$DEAD_PORT', '127.0.0.1:$PORT'] } } } }),
  p('proxy_pass $upstream_url set in access', [{ match: '/front', vars: { upstream_url: '' }, access: 'ngx.var.upstream_url = "http://127.0.0.1:" .. ngx.var.server_port .. "/backend"', proxyPass: '$upstream_url' }]),
  p('proxy_pass http://$target with target set in rewrite', [{ match: '/front', vars: { target: '' }, rewrite: 'ngx.var.target = "127.0.0.1:" .. ngx.var.server_port', proxyPass: 'http://$target/backend' }]),
  p('capture of a proxied location', [{ match: '= /front', content: 'local res = ngx.location.capture("/proxied")\nngx.say(res.status, " ", res.header["X-Backend"], " ", res.body)' }, { match: '/proxied', proxyPass: 'http://127.0.0.1:$PORT/backend' }]),
  p('an upstream block', [{ match: '/front', proxyPass: 'http://up/backend' }], [{ path: '/front' }], { case: { upstreams: { up: { servers: ['127.0.0.1:$PORT'] } } } }),

  // balancer_by_lua
  p('balancer: set_current_peer', [{ match: '/front', proxyPass: 'http://bal/backend' }], [{ path: '/front' }], {
    case: { upstreams: { bal: { balancer: 'local b = require "ngx.balancer"\nassert(b.set_current_peer("127.0.0.1", $PORT))' } } },
  }),
  p('balancer: get_last_failure after a failed try', [{ match: '/front', proxyPass: 'http://bal/backend', headerFilter: 'ngx.header["X-Failure"] = ngx.ctx.failure' }], [{ path: '/front' }], {
    case: { upstreams: { bal: { balancer: 'local b = require "ngx.balancer"\nlocal state, code = b.get_last_failure()\nif state == nil then\n  ngx.ctx.failure = "first try"\n  assert(b.set_more_tries(1))\n  assert(b.set_current_peer("127.0.0.1", $DEAD_PORT))\nelse\n  ngx.ctx.failure = state .. " " .. tostring(code)\n  assert(b.set_current_peer("127.0.0.1", $PORT))\nend' } } },
  }),
  p('balancer: ngx.get_phase', [{ match: '/front', proxyPass: 'http://bal/backend', headerFilter: 'ngx.header["X-Phase"] = ngx.ctx.phase' }], [{ path: '/front' }], {
    case: { upstreams: { bal: { balancer: 'ngx.ctx.phase = ngx.get_phase()\nassert(require("ngx.balancer").set_current_peer("127.0.0.1", $PORT))' } } },
  }),
  p('balancer: an error is 500', [{ match: '/front', proxyPass: 'http://bal/backend' }], [{ path: '/front' }], {
    case: { upstreams: { bal: { balancer: 'error("balancer failed")' } } },
  }),
];
