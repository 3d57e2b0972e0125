// ngx.req.*: method, headers, URI args, set_uri, is_internal, http_version.
import { DUMP, at, content, locs } from '../case-helpers.mjs';

const manyHeaders = (n) => Array.from({ length: n }, (_, i) => [`X-H${String(i).padStart(3, '0')}`, String(i)]);
const manyArgs = (n) => Array.from({ length: n }, (_, i) => `a${String(i).padStart(3, '0')}=${i}`).join('&');
const COUNT = 'local function count(t) local n = 0 for _ in pairs(t) do n = n + 1 end return n end ';

export default [
  // method
  ...['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH'].map((m) => content(`req: get_method ${m}`, 'ngx.say(ngx.req.get_method())', [{ method: m }])),
  content('req: get_method HEAD', 'ngx.header["X-Method"] = ngx.req.get_method()', [{ method: 'HEAD' }]),
  content('req: get_method of an unknown method', 'ngx.say(ngx.req.get_method())', [{ method: 'PURGE' }]),
  content('req: set_method(ngx.HTTP_POST)', 'ngx.req.set_method(ngx.HTTP_POST)\nngx.say(ngx.req.get_method(), " ", ngx.var.request_method)'),
  content('req: set_method(ngx.HTTP_PUT) then HTTP_DELETE', 'ngx.req.set_method(ngx.HTTP_PUT)\nlocal a = ngx.req.get_method()\nngx.req.set_method(ngx.HTTP_DELETE)\nngx.say(a, " ", ngx.req.get_method())'),
  content('req: set_method with a bad number', 'local ok, err = pcall(ngx.req.set_method, 12345)\nngx.say(ok, " ", err)'),
  content('req: set_method with a name', 'local ok, err = pcall(ngx.req.set_method, "POST")\nngx.say(ok, " ", ngx.req.get_method())'),
  content('req: method constants', 'ngx.say(ngx.HTTP_GET, " ", ngx.HTTP_HEAD, " ", ngx.HTTP_POST, " ", ngx.HTTP_PUT, " ", ngx.HTTP_DELETE, " ", ngx.HTTP_OPTIONS, " ", ngx.HTTP_PATCH)'),

  // headers
  content('req: get_headers', `${DUMP}dump(ngx.req.get_headers())`, [{ headers: { 'User-Agent': 'raw', 'X-One': '1', Accept: '*/*' } }]),
  content('req: get_headers with a repeated header', `${DUMP}dump(ngx.req.get_headers())`, [{ headers: [['X-Rep', 'a'], ['X-Rep', 'b'], ['X-Rep', 'c']] }]),
  content('req: get_headers reads any spelling', 'local h = ngx.req.get_headers()\nngx.say(h["User-Agent"], " ", h.user_agent, " ", h["USER-AGENT"])', [{ headers: { 'User-Agent': 'ua' } }]),
  content('req: get_headers(2) with more headers', `${COUNT}local h, err = ngx.req.get_headers(2)\nngx.say(count(h), " ", err)`, [{ headers: { 'X-A': '1', 'X-B': '2' } }]),
  content('req: get_headers with more than 100 headers', `${COUNT}local h, err = ngx.req.get_headers()\nngx.say(count(h), " ", err)`, [{ headers: manyHeaders(105) }]),
  content('req: get_headers(0) with more than 100 headers', `${COUNT}local h, err = ngx.req.get_headers(0)\nngx.say(count(h), " ", err)`, [{ headers: manyHeaders(105) }]),
  content('req: get_headers(nil, true) keeps the case', `${DUMP}dump(ngx.req.get_headers(nil, true))`, [{ headers: { 'X-CamelCase': 'c' } }]),
  content('req: get_headers of an underscore header name', `${DUMP}dump(ngx.req.get_headers())`, [{ headers: { X_Under: 'u' } }]),
  content('req: set_header then read it', `${DUMP}ngx.req.set_header("X-New", "v")\nngx.say(ngx.var.http_x_new, " ", ngx.req.get_headers()["x-new"])`),
  content('req: set_header replaces', 'ngx.req.set_header("X-A", "new")\nngx.say(ngx.var.http_x_a)', [{ headers: { 'X-A': 'old' } }]),
  content('req: set_header with a table', 'ngx.req.set_header("X-M", {"a", "b"})\nlocal v = ngx.req.get_headers()["x-m"]\nngx.say(type(v), " ", type(v) == "table" and table.concat(v, ",") or v)'),
  content('req: set_header nil removes', 'ngx.req.set_header("X-A", nil)\nngx.say(tostring(ngx.var.http_x_a))', [{ headers: { 'X-A': 'old' } }]),
  content('req: clear_header', 'ngx.req.clear_header("X-A")\nngx.say(tostring(ngx.var.http_x_a), " ", tostring(ngx.req.get_headers()["x-a"]))', [{ headers: { 'X-A': 'old' } }]),
  content('req: clear_header of a repeated header', 'ngx.req.clear_header("X-Rep")\nngx.say(tostring(ngx.req.get_headers()["x-rep"]))', [{ headers: [['X-Rep', 'a'], ['X-Rep', 'b']] }]),
  content('req: set_header Host changes ngx.var.host', 'ngx.req.set_header("Host", "other.example")\nngx.say(ngx.var.host, " ", ngx.var.http_host)'),
  content('req: set_header with underscores', 'ngx.req.set_header("X_Under", "u")\nngx.say(tostring(ngx.var.http_x_under), " ", tostring(ngx.req.get_headers()["x_under"]))'),
  content('req: set_header with a number', 'ngx.req.set_header("X-N", 42)\nngx.say(ngx.var.http_x_n)'),
  at('req: set_header in rewrite, read in content', { rewrite: 'ngx.req.set_header("X-From-Rewrite", "r")', content: 'ngx.say(ngx.var.http_x_from_rewrite)' }),
  content('req: raw_header', 'ngx.print(ngx.req.raw_header())', [{ path: '/raw?x=1', headers: { 'X-A': '1' } }]),
  content('req: raw_header(true) without the request line', 'ngx.print(ngx.req.raw_header(true))', [{ headers: { 'X-A': '1' } }]),

  // URI args
  content('req: get_uri_args', `${DUMP}dump(ngx.req.get_uri_args())`, [{ path: '/?a=1&b=two' }]),
  content('req: get_uri_args with repeated keys', `${DUMP}dump(ngx.req.get_uri_args())`, [{ path: '/?a=1&a=2&a=3&b=x' }]),
  content('req: get_uri_args with flags and empty values', `${DUMP}dump(ngx.req.get_uri_args())`, [{ path: '/?flag&empty=&x=1' }]),
  content('req: get_uri_args percent-decodes', `${DUMP}dump(ngx.req.get_uri_args())`, [{ path: '/?a=x%20y&b=1+2&c%3D=%26' }]),
  content('req: get_uri_args with invalid UTF-8 %E9', 'local args = ngx.req.get_uri_args()\nngx.say(#args.a, " ", string.byte(args.a, 1, -1))', [{ path: '/?a=caf%E9' }]),
  content('req: get_uri_args with a bad escape', `${DUMP}dump(ngx.req.get_uri_args())`, [{ path: '/?a=%zz&b=%4' }]),
  content('req: get_uri_args with an empty key', `${DUMP}dump(ngx.req.get_uri_args())`, [{ path: '/?=1&&x=2&' }]),
  content('req: get_uri_args(2) with more args', `${COUNT}local args, err = ngx.req.get_uri_args(2)\nngx.say(count(args), " ", err)`, [{ path: '/?a=1&b=2&c=3' }]),
  content('req: get_uri_args with more than 100 args', `${COUNT}local args, err = ngx.req.get_uri_args()\nngx.say(count(args), " ", err)`, [{ path: `/?${manyArgs(105)}` }]),
  content('req: get_uri_args(0) with more than 100 args', `${COUNT}local args, err = ngx.req.get_uri_args(0)\nngx.say(count(args), " ", err)`, [{ path: `/?${manyArgs(105)}` }]),
  content('req: get_uri_args without a query', `${COUNT}ngx.say(count(ngx.req.get_uri_args()))`),
  content('req: set_uri_args with a string', 'ngx.req.set_uri_args("x=1&y=2")\nngx.say(ngx.var.args, " ", ngx.req.get_uri_args().y)', [{ path: '/?old=1' }]),
  content('req: set_uri_args with a table', 'ngx.req.set_uri_args({ b = "x y", a = 1 })\nlocal args = ngx.req.get_uri_args()\nngx.say(args.a, " ", args.b, " ", #ngx.var.args)'),
  content('req: set_uri_args with an array value', 'ngx.req.set_uri_args({ a = {"1", "2"} })\nngx.say(ngx.var.args)'),
  content('req: set_uri_args with a boolean value', 'ngx.req.set_uri_args({ flag = true })\nngx.say(ngx.var.args)'),
  content('req: set_uri_args with an empty table', 'ngx.req.set_uri_args({})\nngx.say("[", ngx.var.args, "]")', [{ path: '/?x=1' }]),
  content('req: set_uri_args with a number', 'ngx.req.set_uri_args(12)\nngx.say(ngx.var.args)'),

  // set_uri
  content('req: set_uri changes ngx.var.uri', 'ngx.req.set_uri("/new/path")\nngx.say(ngx.var.uri, " ", ngx.var.request_uri)', [{ path: '/old?x=1' }]),
  content('req: set_uri with special characters', 'ngx.req.set_uri("/a b?c")\nngx.say(ngx.var.uri, " ", ngx.var.args)', [{ path: '/old?x=1' }]),
  content('req: set_uri with an empty string', 'local ok, err = pcall(ngx.req.set_uri, "")\nngx.say(ok, " ", err)'),
  content('req: set_uri with jump in content is refused', 'local ok, err = pcall(ngx.req.set_uri, "/b", true)\nngx.say(ok, " ", err)', [{ path: '/a' }]),
  locs('req: set_uri with jump in rewrite', [{ match: '/a', rewrite: 'ngx.req.set_uri("/b", true)', content: 'ngx.say("a")' }, { match: '/b', content: 'ngx.say("b ", ngx.var.uri)' }], [{ path: '/a?q=1' }]),
  locs('req: set_uri without jump in rewrite stays', [{ match: '/a', rewrite: 'ngx.req.set_uri("/b")', content: 'ngx.say("a ", ngx.var.uri)' }, { match: '/b', content: 'ngx.say("b")' }], [{ path: '/a' }]),
  locs('req: set_uri with jump keeps the args', [{ match: '/a', rewrite: 'ngx.req.set_uri_args("z=9")\nngx.req.set_uri("/b", true)' }, { match: '/b', content: 'ngx.say(ngx.var.args)' }], [{ path: '/a?q=1' }]),

  // misc
  content('req: is_internal is false', 'ngx.say(ngx.req.is_internal())'),
  locs('req: is_internal after exec', [{ match: '/a', content: 'ngx.exec("/b")' }, { match: '/b', content: 'ngx.say(ngx.req.is_internal())' }], [{ path: '/a' }]),
  content('req: http_version', 'ngx.say(ngx.req.http_version())', [{}, { http: '1.0' }]),
  content('req: start_time is a number', 'ngx.say(type(ngx.req.start_time()), " ", ngx.req.start_time() <= ngx.now())'),
  content('req: get_body_file without a body', 'ngx.req.read_body()\nngx.say(tostring(ngx.req.get_body_file()))'),
  content('req: is_subrequest is false', 'ngx.say(ngx.is_subrequest)'),
];
