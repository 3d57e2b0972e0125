// init, init_worker, globals, timers, require, runtime errors.
import { content, locs } from '../case-helpers.mjs';

const D = { sharedDicts: { d: '1m' } };

export default [
  // init and globals
  // The key order of cjson.encode varies between nginx starts (LuaJIT's table order): the case prints what is stable.
  locs('init: cjson = require "cjson", used in content', [{ match: '/', content: 'local s = cjson.encode({dog = 5, cat = 6})\nngx.say(#s, " ", s:find(\'"dog":5\', 1, true) ~= nil, " ", s:find(\'"cat":6\', 1, true) ~= nil)' }], [{}], { init: 'cjson = require "cjson"' }),
  locs('init: a global context table used by access and content', [{ match: '/', access: 'if context.config.deny then return ngx.exit(403) end\nngx.ctx.app = context.app', content: 'ngx.say(ngx.ctx.app, " ", context.config.version)' }], [{}], { init: 'context = { app = "demo", config = { version = 3, deny = false } }' }),
  locs('init: a global function', [{ match: '/', content: 'ngx.say(greet("world"))' }], [{}], { init: 'function greet(name) return "hello, " .. name end' }),
  locs('init: a local is not visible to requests', [{ match: '/', content: 'ngx.say(tostring(hidden))' }], [{}], { init: 'local hidden = 1' }),
  locs('init: writes a shared dict', [{ match: '/', content: 'ngx.say(ngx.shared.d:get("k"))' }], [{}], { ...D, init: 'ngx.shared.d:set("k", "from init")' }),
  locs('init: ngx.get_phase', [{ match: '/', content: 'ngx.say(ngx.shared.d:get("phase"))' }], [{}], { ...D, init: 'ngx.shared.d:set("phase", ngx.get_phase())' }),
  locs('init: request APIs are refused', [{ match: '/', content: 'ngx.say(ngx.shared.d:get("err"))' }], [{}], { ...D, init: 'local ok, err = pcall(function() return ngx.var.uri end)\nngx.shared.d:set("err", tostring(ok) .. " " .. tostring(err))' }),
  locs('init: ngx.log at warn', [{ match: '/', content: 'ngx.say("ok")' }], [{}], { log: true, init: 'ngx.log(ngx.WARN, "hello from init")' }),
  locs('init: a runtime error stops the start', [{ match: '/', content: 'ngx.say("ok")' }], [{}], { init: 'error("init failed")' }),
  locs('init: a syntax error stops the start', [{ match: '/', content: 'ngx.say("ok")' }], [{}], { init: 'local x = = 1' }),
  locs('init_worker: writes a shared dict', [{ match: '/', content: 'ngx.say(ngx.shared.d:get("k"), " ", ngx.shared.d:get("phase"))' }], [{}], { ...D, initWorker: 'ngx.shared.d:set("k", "from init_worker")\nngx.shared.d:set("phase", ngx.get_phase())' }),
  locs('init_worker: an error is logged and requests are served', [{ match: '/', content: 'ngx.say("served")' }], [{}], { log: true, initWorker: 'error("init_worker failed")' }),
  locs('init_worker: a timer writes a shared dict', [{ match: '/', content: 'ngx.sleep(0.05)\nngx.say(ngx.shared.d:get("timer"))' }], [{}], { ...D, initWorker: 'ngx.timer.at(0, function(premature) ngx.shared.d:set("timer", "fired " .. tostring(premature) .. " " .. ngx.get_phase()) end)' }),
  locs('init_worker: sees globals from init', [{ match: '/', content: 'ngx.say(ngx.shared.d:get("k"))' }], [{}], { ...D, init: 'shared_value = "from init"', initWorker: 'ngx.shared.d:set("k", shared_value)' }),
  locs('globals: set by one request, read by the next', [{ match: '= /set', content: 'counter_global = (counter_global or 0) + 1\nngx.say("set")' }, { match: '= /get', content: 'ngx.say(tostring(counter_global))' }], [{ path: '/set' }, { path: '/get' }]),
  locs('globals: writing a global logs a warning', [{ match: '/', content: 'some_global = 1\nngx.say("ok")' }], [{}], { log: true }),
  locs('globals: a global from init changed by a request', [{ match: '= /set', content: 'config_global.n = config_global.n + 1\nngx.say("set")' }, { match: '= /get', content: 'ngx.say(config_global.n)' }], [{ path: '/set' }, { path: '/get' }], { init: 'config_global = { n = 1 }' }),
  locs('globals: a global set in rewrite read in content', [{ match: '/', rewrite: 'phase_global = "from rewrite"', content: 'ngx.say(tostring(phase_global))' }]),

  // timers
  locs('timer: ngx.timer.at from content', [{ match: '= /start', content: 'local ok, err = ngx.timer.at(0, function(premature, a) ngx.shared.d:set("v", "timer " .. a) end, "arg")\nngx.say(ok, " ", tostring(err))' }, { match: '= /check', content: 'ngx.sleep(0.05)\nngx.say(tostring(ngx.shared.d:get("v")))' }], [{ path: '/start' }, { path: '/check' }], D),
  locs('timer: ngx.timer.every', [{ match: '= /start', content: 'ngx.timer.every(0.01, function() ngx.shared.d:incr("v", 1, 0) end)\nngx.say("started")' }, { match: '= /check', content: 'ngx.sleep(0.2)\nngx.say(ngx.shared.d:get("v") >= 2)' }], [{ path: '/start' }, { path: '/check' }], D),
  locs('timer: request APIs are refused in a timer', [{ match: '= /start', content: 'ngx.timer.at(0, function() local ok, err = pcall(function() return ngx.var.uri end) ngx.shared.d:set("v", tostring(err)) end)\nngx.say("started")' }, { match: '= /check', content: 'ngx.sleep(0.05)\nngx.say(tostring(ngx.shared.d:get("v")))' }], [{ path: '/start' }, { path: '/check' }], D),
  locs('timer: an error in a callback is logged', [{ match: '= /start', content: 'ngx.timer.at(0, function() error("timer failed") end)\nngx.sleep(0.05)\nngx.say("started")' }], [{ path: '/start' }], { log: true }),
  locs('timer: counts', [{ match: '/', content: 'ngx.timer.at(10, function() end)\nngx.say(ngx.timer.pending_count(), " ", ngx.timer.running_count())' }]),
  locs('timer: a zero interval for every is refused', [{ match: '/', content: 'local ok, err = pcall(ngx.timer.every, 0, function() end)\nngx.say(ok, " ", tostring(err))' }]),

  // require
  locs('require: a module from lua.packagePath', [{ match: '/', content: 'local m = require "greeting"\nngx.say(m.hello("lua"))' }], [{}], { lua: { packagePath: 'lua/?.lua;;' } }),
  locs('require: module state persists across requests', [{ match: '/', content: 'local m = require "greeting"\nngx.say(m.count())' }], [{}, {}, {}], { lua: { packagePath: 'lua/?.lua;;' } }),
  locs('require: a missing module', [{ match: '/', content: 'local ok, err = pcall(require, "no_such_module_here")\nngx.say(ok, " ", err:match("module \'no_such_module_here\' not found") ~= nil)' }]),
  locs('require: package.loaded.ngx', [{ match: '/', content: 'ngx.say(package.loaded.ngx == ngx)' }]),

  // runtime errors
  content('error: a runtime error serves 500', 'error("boom")', [{}], { log: true }),
  content('error: after output the connection is closed', 'ngx.say("partial")\nerror("boom")', [{}], { log: true }),
  content('error: after a flush the body is cut', 'ngx.say("partial")\nngx.flush(true)\nerror("boom")', [{}], { log: true }),
  content('error: with a table value', 'error({ code = 1 })', [{}], { log: true }),
  content('error: with level 0', 'error("no position", 0)', [{}], { log: true }),
  content('error: calling nil', 'local t = nil\nt.x = 1', [{}], { log: true }),
  content('error: inside pcall is caught', 'local ok, err = pcall(error, "caught")\nngx.say(ok, " ", err)'),
  content('error: a syntax error in content', 'ngx.say("x"', [{}], { log: true }),
  content('error: the next request is fine', 'if ngx.var.arg_fail then error("boom") end\nngx.say("fine")', [{ path: '/?fail=1' }, { path: '/' }]),
  locs('error: in rewrite serves 500', [{ match: '/', rewrite: 'error("rewrite boom")', content: 'ngx.say("content")' }], [{}], { log: true }),
  locs('error: in access serves 500', [{ match: '/', access: 'error("access boom")', content: 'ngx.say("content")' }], [{}], { log: true }),
  locs('error: in log is logged only', [{ match: '/', content: 'ngx.say("fine")', log: 'error("log boom")' }], [{}], { log: true }),
  locs('error: in set_by_lua', [{ match: '/', set: [{ var: 'x', lua: 'error("set boom")' }], content: 'ngx.say("content ", ngx.var.x)' }], [{}], { log: true }),
];
