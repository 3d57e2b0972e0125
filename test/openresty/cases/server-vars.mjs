// nginx variables about the server, the connection and the time, and ngx.req.raw_header.
import { content } from '../case-helpers.mjs';

const v = (name, lua, requests) => content(`server vars: ${name}`, lua, requests);

export default [
  v('binary_remote_addr', String.raw`local b = ngx.var.binary_remote_addr
ngx.say(#b, " ", table.concat({ string.byte(b, 1, -1) }, "."))`),
  v('server_name, hostname, nginx_version', String.raw`ngx.say(ngx.var.server_name, " ", #ngx.var.hostname > 0, " ", ngx.var.nginx_version)`),
  v('time_local and time_iso8601', String.raw`ngx.say(ngx.var.time_local:match("^%d%d/%a%a%a/%d%d%d%d:%d%d:%d%d:%d%d [+-]%d%d%d%d$") ~= nil)
ngx.say(ngx.var.time_iso8601:match("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d[+-]%d%d:%d%d$") ~= nil)`),
  v('request_id', String.raw`local id = ngx.var.request_id
ngx.say(#id, " ", id:match("^%x+$") ~= nil, " ", id ~= ngx.var.request_id)`),
  v('connections', String.raw`ngx.say(ngx.var.connections_active:match("^%d+$") ~= nil, " ", ngx.var.connections_reading:match("^%d+$") ~= nil, " ", ngx.var.connections_writing:match("^%d+$") ~= nil, " ", ngx.var.connections_waiting:match("^%d+$") ~= nil)`),
  v('remote_user', String.raw`ngx.say(tostring(ngx.var.remote_user))`, [{ headers: { Authorization: 'Basic YWxpY2U6c2VjcmV0' } }, {}, { headers: { Authorization: 'Bearer abc' } }]),
  v('request_length', String.raw`ngx.say(ngx.var.request_length)`, [{ path: '/?a=1' }, { method: 'POST', path: '/', headers: { 'Content-Type': 'text/plain' }, body: 'twelve bytes' }]),
  v('ngx.req.raw_header', String.raw`ngx.print(ngx.req.raw_header())
ngx.print(ngx.req.raw_header(true))`, [{ path: '/raw?x=1', headers: { 'X-One': 'a b', 'x-two': '2' } }]),
  v('ngx.worker.pids', String.raw`local pids = ngx.worker.pids()
ngx.say(#pids, " ", pids[1] == ngx.worker.pid())`),
];
