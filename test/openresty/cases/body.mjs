// Request bodies: read_body, get_body_data, get_post_args, temp files, init/append/finish_body.
import { DUMP, at, content } from '../case-helpers.mjs';

const FORM = { 'Content-Type': 'application/x-www-form-urlencoded' };
const post = (body, headers = FORM) => [{ method: 'POST', headers, body }];
const COUNT = 'local function count(t) local n = 0 for _ in pairs(t) do n = n + 1 end return n end ';
const manyArgs = (n) => Array.from({ length: n }, (_, i) => `p${String(i).padStart(3, '0')}=${i}`).join('&');

export default [
  content('body: read_body then get_body_data', 'ngx.req.read_body()\nngx.say(ngx.req.get_body_data())', post('hello body', {})),
  content('body: get_body_data before read_body', 'ngx.say(tostring(ngx.req.get_body_data()))', post('hello body', {})),
  content('body: read_body returns nothing', 'local r = ngx.req.read_body()\nngx.say(tostring(r))', post('x', {})),
  content('body: read_body twice', 'ngx.req.read_body()\nngx.req.read_body()\nngx.say(ngx.req.get_body_data())', post('twice', {})),
  content('body: GET without a body', 'ngx.req.read_body()\nngx.say(tostring(ngx.req.get_body_data()))'),
  content('body: POST with an empty body', 'ngx.req.read_body()\nngx.say(tostring(ngx.req.get_body_data()))', post('', {})),
  content('body: binary body', 'ngx.req.read_body()\nlocal b = ngx.req.get_body_data()\nngx.say(#b, " ", ngx.md5(b))', [{ method: 'PUT', body: { base64: 'AAECA/7/gIE=' } }]),
  content('body: chunked request body', 'ngx.req.read_body()\nngx.say(ngx.req.get_body_data(), " ", tostring(ngx.var.http_content_length))', [{ method: 'POST', headers: { 'Transfer-Encoding': 'chunked' }, body: '5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n' }]),
  content('body: discard_body then get_body_data', 'ngx.req.discard_body()\nngx.say(tostring(ngx.req.get_body_data()))', post('dropped', {})),
  content('body: over client_max_body_size', 'ngx.req.read_body()\nngx.say("read")', post('x'.repeat(2000), {}), { clientMaxBodySize: '1k' }),
  content('body: ngx.var.request_body after read_body', 'ngx.req.read_body()\nngx.say(ngx.var.request_body)', post('var body', {})),
  at('body: read in rewrite, used in content', { rewrite: 'ngx.req.read_body()', content: 'ngx.say(ngx.req.get_body_data())' }, post('early', {})),
  at('body: read in access', { access: 'ngx.req.read_body()\nngx.ctx.b = ngx.req.get_body_data()', content: 'ngx.say(ngx.ctx.b)' }, post('in access', {})),

  // get_post_args
  content('body: get_post_args', `${DUMP}ngx.req.read_body()\ndump(ngx.req.get_post_args())`, post('a=1&b=two&c=x+y%21')),
  content('body: get_post_args with repeated keys and flags', `${DUMP}ngx.req.read_body()\ndump(ngx.req.get_post_args())`, post('a=1&a=2&flag&e=')),
  content('body: get_post_args(2) with three args', `${COUNT}ngx.req.read_body()\nlocal args, err = ngx.req.get_post_args(2)\nngx.say(count(args), " ", err)`, post('a=1&b=2&c=3')),
  content('body: get_post_args with more than 100 args', `${COUNT}ngx.req.read_body()\nlocal args, err = ngx.req.get_post_args()\nngx.say(count(args), " ", err)`, post(manyArgs(105))),
  content('body: get_post_args(0) with more than 100 args', `${COUNT}ngx.req.read_body()\nlocal args, err = ngx.req.get_post_args(0)\nngx.say(count(args), " ", err)`, post(manyArgs(105))),
  content('body: get_post_args before read_body', 'local args, err = ngx.req.get_post_args()\nngx.say(tostring(args), " ", err)', post('a=1')),
  content('body: get_post_args without a content type', `${DUMP}ngx.req.read_body()\ndump(ngx.req.get_post_args())`, post('a=1', {})),
  content('body: get_post_args with invalid UTF-8 %E9', 'ngx.req.read_body()\nlocal a = ngx.req.get_post_args().a\nngx.say(#a, " ", string.byte(a, -1))', post('a=caf%E9')),

  // temp files
  content('body: get_body_data when the body went to a temp file', 'ngx.req.read_body()\nngx.say(tostring(ngx.req.get_body_data()), " ", type(ngx.req.get_body_file()))', post('x'.repeat(3000), {}), { clientBodyBufferSize: '1k' }),
  content('body: get_post_args when the body went to a temp file', 'ngx.req.read_body()\nlocal args, err = ngx.req.get_post_args()\nngx.say(tostring(args), " ", err)', post(`a=${'x'.repeat(3000)}`), { clientBodyBufferSize: '1k' }),
  content('body: request_body when the body went to a temp file', 'ngx.req.read_body()\nngx.say(tostring(ngx.var.request_body))', post('x'.repeat(3000), {}), { clientBodyBufferSize: '1k' }),
  content('body: a body at client_body_buffer_size stays in memory', 'ngx.req.read_body()\nlocal d = ngx.req.get_body_data()\nngx.say(d and #d, " ", tostring(ngx.req.get_body_file()))', post('x'.repeat(1024), {}), { clientBodyBufferSize: '1k' }),

  // replacing the body
  content('body: init_body, append_body, finish_body', 'ngx.req.read_body()\nngx.req.init_body()\nngx.req.append_body("new ")\nngx.req.append_body("body")\nngx.req.finish_body()\nngx.say(ngx.req.get_body_data(), " ", ngx.var.http_content_length)', post('old', {})),
  content('body: init_body without read_body', 'ngx.req.init_body()\nngx.req.append_body("abc")\nngx.req.finish_body()\nngx.say(ngx.req.get_body_data(), " ", ngx.var.http_content_length)'),
  content('body: init_body then finish_body with nothing appended', 'ngx.req.read_body()\nngx.req.init_body()\nngx.req.finish_body()\nngx.say(tostring(ngx.req.get_body_data()), " ", ngx.var.http_content_length)', post('old', {})),
  content('body: set_body_data', 'ngx.req.read_body()\nngx.req.set_body_data("replaced")\nngx.say(ngx.req.get_body_data(), " ", ngx.var.http_content_length)', post('old', {})),
  content('body: set_body_data without read_body', 'local ok, err = pcall(ngx.req.set_body_data, "x")\nngx.say(ok, " ", err)', post('old', {})),
  content('body: set_body_data then get_post_args', `${DUMP}ngx.req.read_body()\nngx.req.set_body_data("k=v&n=1")\ndump(ngx.req.get_post_args())`, post('old=1')),
  content('body: append_body without init_body', 'ngx.req.read_body()\nlocal ok, err = pcall(ngx.req.append_body, "x")\nngx.say(ok, " ", err)', post('old', {})),
];
