// Hostile input and faulty handlers: framing headers a handler sets, keys named like
// Object.prototype members (request headers, args, post args, cookies, cjson keys, ngx.ctx,
// ngx.header, variables, dicts), as nginx + lua-nginx-module answer them.
import { at, content, DUMP } from '../case-helpers.mjs';

const HOSTILE = ['constructor', 'toString', 'hasOwnProperty', 'valueOf', '__proto__'];
const luaList = `{ ${HOSTILE.map((k) => `"${k}"`).join(', ')} }`;
const query = HOSTILE.map((k, i) => `${k}=a${i}`).join('&');

export default [
  // Framing headers from a handler
  content('hardening: Content-Length -5 raises "failed to set header"', 'local ok, err = pcall(function() ngx.header["Content-Length"] = "-5" end)\nngx.say(ok, " ", err)'),
  content('hardening: Content-Length -5 unprotected is a 500', 'ngx.header["Content-Length"] = "-5"\nngx.say("x")', [{}], { log: true }),
  content('hardening: Content-Length "abc" is a 500', 'ngx.header.content_length = "abc"\nngx.say("x")'),
  content('hardening: Content-Length as a negative number is a 500', 'ngx.header.content_length = -5\nngx.say("x")'),
  content('hardening: Transfer-Encoding set by a handler', 'ngx.header["Transfer-Encoding"] = "chunked"\nngx.say("x")'),
  content('hardening: Trailer set by a handler', 'ngx.header["Trailer"] = "X-A"\nngx.say("x")'),
  content('hardening: an empty header name is ignored', 'local ok, err = pcall(function() ngx.header[""] = "v" end)\nngx.say(ok, " ", err)'),
  content('hardening: a header name with a space is escaped', 'ngx.header["a b"] = "v"\nngx.say("x")'),

  // Keys named like Object.prototype members are plain data
  content('hardening: request headers named constructor and toString',
    `${DUMP}local h = ngx.req.get_headers()\nngx.say(h.constructor, " ", h.toString, " ", h.tostring, " ", tostring(h.hasOwnProperty), " ", ngx.var.http_constructor)`,
    [{ headers: { constructor: 'c', toString: 't' } }]),
  content('hardening: uri args with hostile names', `${DUMP}dump(ngx.req.get_uri_args())\nngx.say(ngx.var.arg_constructor, " ", ngx.var.arg___proto__)`, [{ path: `/?${query}` }]),
  content('hardening: post args with hostile names', `${DUMP}ngx.req.read_body()\ndump(ngx.req.get_post_args())`,
    [{ method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: query }]),
  content('hardening: cookies with hostile names', 'ngx.say(ngx.var.cookie_constructor, " ", ngx.var.cookie___proto__, " ", tostring(ngx.var.cookie_valueof))',
    [{ headers: { Cookie: 'constructor=c1; __proto__=c2' } }]),
  content('hardening: cjson keys with hostile names round-trip', `${DUMP}local cjson = require "cjson"\nlocal t = cjson.decode('{"__proto__":1,"constructor":{"prototype":2},"toString":"x"}')\ndump(t)\nlocal back = cjson.decode(cjson.encode(t))\nngx.say(back.__proto__, " ", back.constructor.prototype, " ", back.toString)`),
  content('hardening: ngx.ctx keys with hostile names', `for i, k in ipairs(${luaList}) do ngx.ctx[k] = i end\nfor _, k in ipairs(${luaList}) do ngx.say(k, "=", ngx.ctx[k]) end`),
  content('hardening: ngx.header with hostile names', `for i, k in ipairs(${luaList}) do ngx.header[k] = "v" .. i end\nngx.say(ngx.header.constructor, " ", ngx.header.tostring)`),
  content('hardening: undeclared variables with hostile names read nil', `for _, k in ipairs(${luaList}) do ngx.say(k, "=", tostring(ngx.var[k])) end`),
  at('hardening: dicts named constructor and toString', { content: 'ngx.shared.constructor:set("a", 1)\nngx.say(ngx.shared.constructor:get("a"), " ", ngx.shared.toString:get("a"), " ", tostring(ngx.shared.valueOf))' }, [{}], { sharedDicts: { constructor: '1m', toString: '1m' } }),
];
