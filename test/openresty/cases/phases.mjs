// ngx.ctx across phases, set_by_lua, the log phase, ngx.get_phase, ngx.log, ngx.sleep.
import { at, content, locs } from '../case-helpers.mjs';

const CHECK = { match: '= /check', content: 'ngx.say(tostring(ngx.shared.d:get("v")))' };
const D = { sharedDicts: { d: '1m' } };

export default [
  // ngx.ctx
  locs('ctx: one table through every phase', [{
    match: '/',
    rewrite: 'ngx.ctx.t = "r"',
    access: 'ngx.ctx.t = ngx.ctx.t .. "a"',
    content: 'ngx.ctx.t = ngx.ctx.t .. "c"\nngx.say(ngx.ctx.t)',
    headerFilter: 'ngx.ctx.t = ngx.ctx.t .. "h"',
    bodyFilter: 'if ngx.arg[2] then ngx.ctx.t = ngx.ctx.t .. "b" end',
    log: 'ngx.shared.d:set("v", ngx.ctx.t .. "l")',
  }, CHECK], [{}, { path: '/check' }], D),
  locs('ctx: a new table per request', [{ match: '/', content: 'ngx.say(tostring(ngx.ctx.seen))\nngx.ctx.seen = true' }], [{}, {}]),
  at('ctx: replaced by assignment', { rewrite: 'ngx.ctx = { replaced = "yes" }', content: 'ngx.say(ngx.ctx.replaced)' }),
  at('ctx: assigning a non-table is refused', { content: 'local ok, err = pcall(function() ngx.ctx = 1 end)\nngx.say(ok)' }),
  at('ctx: holds functions and tables', { rewrite: 'ngx.ctx.f = function(x) return x * 2 end\nngx.ctx.list = {1, 2}', content: 'ngx.say(ngx.ctx.f(21), " ", #ngx.ctx.list)' }),
  at('ctx: seen by set_by_lua', { rewrite: 'ngx.ctx.v = 1', set: [{ var: 'x', lua: 'return tostring(ngx.ctx.v)' }], content: 'ngx.say(ngx.var.x)' }),

  // set_by_lua
  at('set: returns a string', { set: [{ var: 'x', lua: 'return "computed"' }], content: 'ngx.say(ngx.var.x)' }),
  at('set: returns a number', { set: [{ var: 'x', lua: 'return 40 + 2' }], content: 'ngx.say(type(ngx.var.x), " ", ngx.var.x)' }),
  at('set: returns nil', { set: [{ var: 'x', lua: 'return nil' }], content: 'ngx.say(type(ngx.var.x), " [", tostring(ngx.var.x), "]")' }),
  at('set: returns nothing', { set: [{ var: 'x', lua: 'local y = 1' }], content: 'ngx.say("[", tostring(ngx.var.x), "]")' }),
  at('set: returns a boolean', { set: [{ var: 'x', lua: 'return true' }], content: 'ngx.say("[", tostring(ngx.var.x), "]")' }, [{}], { log: true }),
  at('set: returns a table', { set: [{ var: 'x', lua: 'return {}' }], content: 'ngx.say("[", tostring(ngx.var.x), "]")' }, [{}], { log: true }),
  at('set: args from variables', { set: [{ var: 'sum', lua: 'return tonumber(ngx.arg[1]) + tonumber(ngx.arg[2])', args: ['$arg_a', '$arg_b'] }], content: 'ngx.say(ngx.var.sum)' }, [{ path: '/?a=3&b=4' }]),
  at('set: args with literals and interpolation', { set: [{ var: 'x', lua: 'return ngx.arg[1] .. "|" .. ngx.arg[2] .. "|" .. #ngx.arg', args: ['lit', 'pre-$arg_a-post'] }], content: 'ngx.say(ngx.var.x)' }, [{ path: '/?a=mid' }]),
  at('set: a missing arg', { set: [{ var: 'x', lua: 'return "[" .. ngx.arg[1] .. "]"', args: ['$arg_none'] }], content: 'ngx.say(ngx.var.x)' }),
  at('set: several in order', { set: [{ var: 'a', lua: 'return "1"' }, { var: 'b', lua: 'return ngx.var.a .. "2"' }, { var: 'c', lua: 'return ngx.var.b .. "3"' }], content: 'ngx.say(ngx.var.c)' }),
  at('set: after vars', { vars: { base: 'b' }, set: [{ var: 'x', lua: 'return ngx.var.base .. "x"' }], content: 'ngx.say(ngx.var.x)' }),
  at('set: overrides a vars value', { vars: { x: 'from vars' }, set: [{ var: 'x', lua: 'return "from set"' }], content: 'ngx.say(ngx.var.x)' }),
  at('set: the phase name', { set: [{ var: 'x', lua: 'return ngx.get_phase()' }], content: 'ngx.say(ngx.var.x)' }),
  at('set: reads request data', { set: [{ var: 'x', lua: 'return ngx.var.uri .. " " .. ngx.req.get_method() .. " " .. ngx.req.get_uri_args().q' }], content: 'ngx.say(ngx.var.x)' }, [{ path: '/s?q=1' }]),
  at('set: ngx.say is refused', { set: [{ var: 'x', lua: 'local ok, err = pcall(ngx.say, "x")\nreturn err' }], content: 'ngx.say(ngx.var.x)' }),
  at('set: ngx.sleep is refused', { set: [{ var: 'x', lua: 'local ok, err = pcall(ngx.sleep, 0)\nreturn err' }], content: 'ngx.say(ngx.var.x)' }),
  at('set: ngx.exit is refused', { set: [{ var: 'x', lua: 'local ok, err = pcall(ngx.exit, 403)\nreturn err' }], content: 'ngx.say(ngx.var.x)' }),
  at('set: ngx.shared is allowed', { set: [{ var: 'x', lua: 'return ngx.shared.d:incr("n", 1, 0)' }], content: 'ngx.say(ngx.var.x)' }, [{}, {}], D),
  locs('set: runs in the exec target', [{ match: '/a', set: [{ var: 'x', lua: 'return "a:" .. ngx.var.uri' }], content: 'ngx.exec("/b")' }, { match: '/b', set: [{ var: 'y', lua: 'return "b:" .. ngx.var.uri' }], content: 'ngx.say(tostring(ngx.var.x), " ", ngx.var.y)' }], [{ path: '/a' }]),

  // log phase
  locs('log: writes a dict the next request reads', [{ match: '/', content: 'ngx.say("hello")', log: 'ngx.shared.d:set("v", ngx.var.uri .. " " .. ngx.var.status)' }, CHECK], [{ path: '/logged' }, { path: '/check' }], D),
  locs('log: sees ngx.ctx and response headers', [{ match: '/', content: 'ngx.ctx.c = "ctx"\nngx.header["X-H"] = "h"\nngx.say("x")', log: 'ngx.shared.d:set("v", ngx.ctx.c .. " " .. ngx.header["X-H"] .. " " .. ngx.get_phase())' }, CHECK], [{}, { path: '/check' }], D),
  locs('log: runs after a default page', [{ match: '/', content: 'ngx.exit(403)', log: 'ngx.shared.d:set("v", ngx.status)' }, CHECK], [{}, { path: '/check' }], D),
  locs('log: runs after a runtime error', [{ match: '/', content: 'error("boom")', log: 'ngx.shared.d:set("v", ngx.var.status)' }, CHECK], [{}, { path: '/check' }], D),
  locs('log: runs once after exec, in the target', [{ match: '/a', content: 'ngx.exec("/b")', log: 'ngx.shared.d:incr("v", 1, 0)' }, { match: '/b', content: 'ngx.say("b")', log: 'ngx.shared.d:incr("v", 10, 0)' }, CHECK], [{ path: '/a' }, { path: '/check' }], D),
  locs('log: ngx.exit is refused', [{ match: '/', content: 'ngx.say("x")', log: 'local ok, err = pcall(ngx.exit, 200)\nngx.shared.d:set("v", tostring(err))' }, CHECK], [{}, { path: '/check' }], D),
  locs('log: ngx.sleep is refused', [{ match: '/', content: 'ngx.say("x")', log: 'local ok, err = pcall(ngx.sleep, 0)\nngx.shared.d:set("v", tostring(err))' }, CHECK], [{}, { path: '/check' }], D),
  locs('log: request headers and args', [{ match: '/', content: 'ngx.say("x")', log: 'ngx.shared.d:set("v", ngx.var.http_x_a .. " " .. ngx.req.get_uri_args().q)' }, CHECK], [{ path: '/?q=9', headers: { 'X-A': 'a' } }, { path: '/check' }], D),

  // ngx.get_phase everywhere
  locs('get_phase: in every request phase', [{
    match: '/',
    set: [{ var: 'p', lua: 'return ngx.get_phase()' }],
    rewrite: 'ngx.ctx.p = { ngx.var.p, ngx.get_phase() }',
    access: 'table.insert(ngx.ctx.p, ngx.get_phase())',
    content: 'table.insert(ngx.ctx.p, ngx.get_phase())\nngx.say("x")',
    headerFilter: 'table.insert(ngx.ctx.p, ngx.get_phase())',
    bodyFilter: 'if ngx.arg[2] then table.insert(ngx.ctx.p, ngx.get_phase()) end',
    log: 'table.insert(ngx.ctx.p, ngx.get_phase())\nngx.shared.d:set("v", table.concat(ngx.ctx.p, ","))',
  }, CHECK], [{}, { path: '/check' }], D),

  // ngx.log
  content('ngx.log: levels at warn and above', 'ngx.log(ngx.ERR, "an error")\nngx.log(ngx.WARN, "a warning")\nngx.log(ngx.NOTICE, "a notice")\nngx.log(ngx.CRIT, "critical")\nngx.log(ngx.ALERT, "alert")\nngx.log(ngx.EMERG, "emergency")\nngx.say("ok")', [{}], { log: true }),
  content('ngx.log: several arguments', 'ngx.log(ngx.ERR, "a", 1, " ", true, " ", nil, " ", 1.5, " ", ngx.null)\nngx.say("ok")', [{}], { log: true }),
  content('ngx.log: a table argument', 'local ok, err = pcall(ngx.log, ngx.ERR, {})\nngx.say(ok, " ", tostring(err))', [{}], { log: true }),
  content('ngx.log: a bad level', 'local ok, err = pcall(ngx.log, 100, "x")\nngx.say(ok, " ", tostring(err))', [{}], { log: true }),
  content('ngx.log: a 1000-byte message', 'ngx.log(ngx.ERR, string.rep("x", 1000))\nngx.say("ok")', [{}], { log: true }),
  content('ngx.log: a message with a newline', 'ngx.log(ngx.WARN, "line1\\nline2")\nngx.say("ok")', [{}], { log: true }),
  at('ngx.log: in header_filter and body_filter', { content: 'ngx.say("x")', headerFilter: 'ngx.log(ngx.WARN, "from header_filter")', bodyFilter: 'if ngx.arg[2] then ngx.log(ngx.WARN, "from body_filter") end' }, [{}], { log: true }),
  at('ngx.log: in log', { content: 'ngx.say("x")', log: 'ngx.log(ngx.WARN, "from log ", ngx.var.status)' }, [{}], { log: true }),
  at('ngx.log: in rewrite and access', { rewrite: 'ngx.log(ngx.WARN, "from rewrite")', access: 'ngx.log(ngx.ERR, "from access")', content: 'ngx.say("x")' }, [{}], { log: true }),
  at('ngx.log: in set_by_lua', { set: [{ var: 'x', lua: 'ngx.log(ngx.WARN, "from set")\nreturn "v"' }], content: 'ngx.say(ngx.var.x)' }, [{}], { log: true }),

  // ngx.sleep
  content('sleep: in content', 'ngx.sleep(0.01)\nngx.say("slept")'),
  content('sleep: zero', 'ngx.sleep(0)\nngx.say("slept 0")'),
  content('sleep: a negative time', 'local ok, err = pcall(ngx.sleep, -1)\nngx.say(ok, " ", tostring(err))'),
  at('sleep: in rewrite and access', { rewrite: 'ngx.sleep(0.001)', access: 'ngx.sleep(0.001)', content: 'ngx.say("ok")' }),
  at('sleep: in log', { content: 'ngx.say("x")', log: 'local ok, err = pcall(ngx.sleep, 0)\nngx.log(ngx.WARN, "log sleep: ", ok, " ", tostring(err))' }, [{}], { log: true }),
];
