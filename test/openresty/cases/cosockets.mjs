// Cosockets (ngx.socket.tcp/udp, ngx.req.socket), light threads, semaphores and ngx.on_abort: the
// peers are the server itself ($PORT) and a port nothing listens on ($DEAD_PORT).
import { at, content, locs } from '../case-helpers.mjs';

/** p(...) prints its arguments tostring'ed and joined by " | " (one line, so line numbers stay). */
const P = 'local function p(...) local n = select("#", ...) local t = {...} for i = 1, n do t[i] = tostring(t[i]) end ngx.say(table.concat(t, " | ")) end ';

/** An HTTP/1.0 request to this server, its response read by the client code after it. */
const GET = (path) => `local s = ngx.socket.tcp() s:settimeout(2000) assert(s:connect("127.0.0.1", $PORT)) s:send("GET ${path} HTTP/1.0\\r\\nHost: x\\r\\n\\r\\n") local head = s:receiveuntil("\\r\\n\\r\\n")() `;

/** A backend location answering with a Content-Length (the same framing on both sides). */
const BACKEND = { match: '/backend', content: 'local body = "backend " .. ngx.var.uri\nngx.header["Content-Length"] = #body\nngx.print(body)' };

const cs = (name, lua, requests = [{}], extra = {}) => content(`cosocket: ${name}`, P + lua, requests, extra);
const th = (name, lua, requests = [{}], extra = {}) => content(`thread: ${name}`, P + lua, requests, extra);

export default [
  cs('connect to a closed port', `local s = ngx.socket.tcp()
p(s:connect("127.0.0.1", $DEAD_PORT))
p(s:send("x"))
p(s:receive())
p(s:close())
p(s:getreusedtimes())
p(s:connect("127.0.0.1"))
p(s:connect("127.0.0.1", 70000))
p(ngx.socket.connect("127.0.0.1", $DEAD_PORT))`),
  locs('cosocket: an HTTP/1.0 round trip to this server', [BACKEND, { match: '= /', content: `${P}${GET('/backend/a')}
p(head:match("^HTTP/1%.%d (%d+)"))
p(s:receive(4))
p(s:receive(100))
p(s:receive())
p(s:close())` }]),
  locs('cosocket: keep-alive to this server, getreusedtimes', [BACKEND, { match: '= /', content: `${P}local function get(path)
  local s = ngx.socket.tcp()
  s:settimeout(2000)
  assert(s:connect("127.0.0.1", $PORT))
  s:send({ "GET ", path, " HTTP/1.1\\r\\n", "Host: x\\r\\n\\r\\n" })
  local head = s:receiveuntil("\\r\\n\\r\\n")()
  local len = tonumber(head:match("\\n[Cc]ontent%-[Ll]ength: (%d+)"))
  p(s:getreusedtimes(), s:receive(len))
  p(s:setkeepalive())
end
get("/backend/one")
get("/backend/two")` }]),
  locs('cosocket: receiveuntil across flushed pieces, and the partial boundary at the end', [
    { match: '/pieces', content: 'ngx.print("--ab") ngx.flush(true) ngx.sleep(0.01) ngx.print("c--x") ngx.flush(true) ngx.sleep(0.01) ngx.print("yz--abc----ab--")' },
    { match: '= /', content: `${P}${GET('/pieces')}
local it = s:receiveuntil("--abc--")
p(it()) p(it()) p(it()) p(it())` },
  ]),
  locs('cosocket: receiveuntil with a size and inclusive', [
    { match: '/data', content: 'ngx.print("0123456789--B--x--B--tail")' },
    { match: '= /', content: `${P}${GET('/data')}
local it = s:receiveuntil("--B--")
p(it(4)) p(it(4)) p(it(4)) p(it(4))
local inc = s:receiveuntil("--B--", { inclusive = true })
p(inc()) p(inc())
p(s:receiveuntil(""))` },
  ]),
  cs('argument checks', `local s = ngx.socket.tcp()
p(pcall(s.settimeout, s))
p(pcall(s.settimeout, s, -1))
p(pcall(s.connect, s, "127.0.0.1", $DEAD_PORT, { pool_size = 0 }))
p(pcall(s.connect, s, "127.0.0.1", $DEAD_PORT, { backlog = -1 }))
p(ngx.socket.stream == ngx.socket.tcp)
p(type(ngx.socket.udp()))`),
  cs('a udp socket to a closed port', `local u = ngx.socket.udp()
p(u:send("x"))
p(u:setpeername("127.0.0.1", $DEAD_PORT))
p(u:send("x"))
ngx.sleep(0.05)
p(u:receive())
p(u:close())
p(u:close())`),
  at('cosocket: refused in header_filter, body_filter and set', {
    set: [{ var: 'x', lua: 'return select(2, pcall(ngx.socket.tcp))' }],
    content: 'ngx.say("content")',
    headerFilter: 'ngx.header["X-Set"] = ngx.var.x ngx.header["X-Tcp"] = select(2, pcall(ngx.socket.tcp)) ngx.header["X-Udp"] = select(2, pcall(ngx.socket.udp)) ngx.header["X-Connect"] = select(2, pcall(ngx.socket.connect, "127.0.0.1", 1)) ngx.header["X-Req"] = select(2, pcall(ngx.req.socket))',
    bodyFilter: 'if ngx.arg[2] then ngx.arg[1] = ngx.arg[1] .. select(2, pcall(ngx.socket.tcp)) .. "\\n" end',
  }),
  at('cosocket: ngx.socket.tcp in the log phase (allowed by phasekit)', {
    content: 'ngx.say("x")',
    log: 'local ok, err = pcall(ngx.socket.tcp) ngx.log(ngx.ERR, "log: ", ok, " ", type(err) == "table" and "socket" or err)',
  }, [{}], { log: true }),
  locs('cosocket: ngx.req.socket reads the body', [{ match: '= /', content: `${P}local sock = ngx.req.socket()
p(select(2, ngx.req.socket()))
p(sock:receive())
local it = sock:receiveuntil("--")
p(it(3)) p(it(3)) p(it(3)) p(it(3))
p(sock:receive(100))
p(sock:receive(1))` }], [{ method: 'POST', body: 'line one\nab-c--de--tail' }]),
  cs('ngx.req.socket without a body', 'p(ngx.req.socket())'),
  cs('raw ngx.req.socket on a plain request', 'ngx.send_headers() ngx.flush(true) local s, err = ngx.req.socket(true) ngx.print(s and "socket" or err)', [{}]),

  th('spawn, wait and kill', `local log = {}
local t1 = ngx.thread.spawn(function(a, b) log[#log + 1] = "t1 " .. a .. b ngx.sleep(0.01) log[#log + 1] = "t1 end" return "r1", "r2" end, "x", "y")
log[#log + 1] = "after spawn"
p(coroutine.status(t1), tostring(t1):sub(1, 7))
p(ngx.thread.wait(t1))
p(table.concat(log, ","))
p(ngx.thread.wait(t1))
local t2 = ngx.thread.spawn(function() return 1, 2 end)
p(coroutine.status(t2), ngx.thread.wait(t2))
local ta = ngx.thread.spawn(function() ngx.sleep(0.05) return "slow" end)
local tb = ngx.thread.spawn(function() ngx.sleep(0.01) return "fast" end)
p(ngx.thread.wait(ta, tb))
p(ngx.thread.kill(ta))
p(ngx.thread.kill(ta))
p(ngx.thread.kill(coroutine.running()))
p(pcall(ngx.thread.wait))
local td = ngx.thread.spawn(function() return ngx.thread.spawn(function() ngx.sleep(0.01) end) end)
local _, te = ngx.thread.wait(td)
p(pcall(ngx.thread.wait, te))
p(ngx.thread.kill(te))`),
  th('the request waits for its threads', 'ngx.thread.spawn(function() ngx.sleep(0.02) ngx.say("late thread") end) ngx.say("entry done")'),
  th('exit in the entry thread kills the others', 'ngx.thread.spawn(function() ngx.sleep(0.02) ngx.say("late thread") end) ngx.say("entry exit") ngx.exit(200)'),
  th('exit in a user thread ends the request', 'ngx.thread.spawn(function() ngx.say("thread exits") ngx.exit(202) end) ngx.sleep(0.02) ngx.say("entry after")'),
  th('exit(403) in a user thread before output', 'ngx.thread.spawn(function() ngx.sleep(0.01) ngx.exit(403) end) ngx.sleep(0.05) ngx.say("entry after")'),
  th('an error in the entry thread', 'ngx.thread.spawn(function() ngx.sleep(0.02) ngx.say("thread runs on") end) error("entry boom")'),
  locs('thread: rewrite waits for its threads', [{ match: '= /', rewrite: 'ngx.thread.spawn(function() ngx.sleep(0.02) ngx.ctx.x = "rewrite thread done" end)', content: 'ngx.say(ngx.ctx.x)' }]),
  at('thread: refused in header_filter', { content: 'ngx.say("x")', headerFilter: 'ngx.header["X-Spawn"] = select(2, pcall(ngx.thread.spawn, function() end)) ngx.header["X-Wait"] = select(2, pcall(ngx.thread.wait))' }),
  th('semaphores', `local sema = require "ngx.semaphore"
p(ngx.semaphore)
local s = sema.new()
p(s:count(), s:wait(0))
p(s:wait(0.01))
ngx.thread.spawn(function() ngx.sleep(0.01) s:post(2) end)
p(s:wait(1))
p(s:count(), s:wait(1))
p(pcall(sema.new, -1))
p(pcall(s.post, s, 0))
local s2 = sema.new(0)
local order = {}
for i = 1, 3 do ngx.thread.spawn(function() local ok = s2:wait(1) order[#order + 1] = i .. tostring(ok) end) end
p(s2:count())
s2:post(3)
p(table.concat(order, ","))
ngx.sleep(0.001)
p(table.concat(order, ","))`),
  cs('on_abort without lua_check_client_abort', 'p(ngx.on_abort(function() end))'),
];
