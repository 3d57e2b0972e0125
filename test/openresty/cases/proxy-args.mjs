// proxy_pass without a URI part after ngx.req.set_uri_args: nginx sends the changed $args (and the
// re-escaped $uri), not the request line's target (request-transformer relies on it).
import { locs } from '../case-helpers.mjs';

/** Answers with the target it was sent when the request comes back proxied; else sets args and proxies to itself. */
const front = (setArgs) => ({
  match: '/direct',
  access: `if ngx.var.http_x_proxied then ngx.say("proxied: ", ngx.var.request_uri) return ngx.exit(200) end\nngx.req.set_header("X-Proxied", "1")\n${setArgs}`,
  proxyPass: 'http://127.0.0.1:$PORT',
});

export default [
  locs('proxy args: set_uri_args in access goes upstream', [front('ngx.req.set_uri_args("z=1&y=two")')], [{ path: '/direct/x?q=1' }]),
  locs('proxy args: set_uri_args to nothing drops the query', [front('ngx.req.set_uri_args("")')], [{ path: '/direct/x?q=1' }]),
  locs('proxy args: set_uri_args with a table', [front('ngx.req.set_uri_args({ only = "v" })')], [{ path: '/direct/a%20b?q=1' }]),
  locs('proxy args: unchanged args keep the raw target', [front('')], [{ path: '/direct/a%20b?q=%41' }]),
];
