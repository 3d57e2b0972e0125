// HAProxy's Lua contexts with their prototypes: body, init, task, action, sample-fetch, converter, service.
import { describe, expect, it } from 'vitest';
import { createClock, createEngine, inject } from 'phasekit';
import { hxEngine, luaDir, messages } from './helpers.js';

describe('body context (luaLoad)', () => {
  it('runs each file once, in order, with core and act in scope and globals shared between files', async () => {
    const { engine, logs } = await hxEngine(
      {
        'a.lua': 'loaded = { "a" }\ncore.Info("a: core " .. type(core) .. ", act.DENY=" .. act.DENY)',
        'b.lua': 'loaded[#loaded + 1] = "b"\ncore.log(core.notice, "files: " .. table.concat(loaded, ","))',
      },
      { locations: [] },
    );
    expect(messages(logs)).toEqual(['a: core table, act.DENY=5', 'files: a,b']);
    expect(logs.map((l) => l.level)).toEqual(['info', 'notice']);
    await engine.close();
  });

  it('runs again on reload (a fresh VM), and a failing file keeps the old generation', async () => {
    const dir = luaDir({ 'count.lua': 'core.Info("loaded")', 'bad.lua': 'error("nope")' });
    const logs: string[] = [];
    const engine = await createEngine({ errorLogLevel: 'info', lua: { prefix: dir }, luaLoad: ['count.lua'], locations: [] }, { logger: (e) => logs.push(e.message) });
    await engine.reload();
    expect(logs).toEqual(['loaded', 'loaded']);
    await expect(engine.reload({ lua: { prefix: dir }, luaLoad: ['bad.lua'], locations: [] })).rejects.toMatchObject({
      code: 'PHASEKIT_ERR_HANDLER',
      message: expect.stringContaining('luaLoad[0] "bad.lua": bad.lua:1: nope') as string,
    });
    await engine.close();
  });

  it('a syntax error in a luaLoad file stops the engine from starting with the file and line', async () => {
    const dir = luaDir({ 'x.lua': 'core.register_init(function()\n' });
    await expect(createEngine({ lua: { prefix: dir }, luaLoad: ['x.lua'], locations: [] }, { logger: () => undefined })).rejects.toMatchObject({ code: 'PHASEKIT_ERR_LUA_SYNTAX' });
  });

  it('core.sleep in the body context raises (startup would block)', async () => {
    const dir = luaDir({ 'x.lua': 'core.sleep(1)' });
    await expect(createEngine({ lua: { prefix: dir }, luaLoad: ['x.lua'], locations: [] }, { logger: () => undefined })).rejects.toMatchObject({
      code: 'PHASEKIT_ERR_HANDLER',
      message: expect.stringContaining('core.sleep: cannot block in the body context (x.lua)') as string,
    });
  });

  it('register_* outside the body context raises', async () => {
    const { engine, logs } = await hxEngine(
      { 'x.lua': 'core.register_action("late", { "http-req" }, function(txn) core.register_fetches("f", function() end) end)' },
      { locations: [{ match: '/', actions: { 'http-req': ['lua.late'] } }] },
    );
    expect((await inject(engine, '/')).status).toBe(500);
    expect(logs[0]?.message).toContain('core.register_fetches: only in the body context (while a luaLoad file runs)');
    await engine.close();
  });
});

describe('init context (core.register_init)', () => {
  it('function() runs after the config loaded, after the config init handler, before initWorker', async () => {
    const { engine, logs } = await hxEngine(
      { 'x.lua': 'core.Info("body")\ncore.register_init(function(...) core.Info("init args=" .. select("#", ...)) end)' },
      { init: { lua: 'ngx.log(ngx.INFO, "config init")' }, initWorker: { lua: 'ngx.log(ngx.INFO, "initWorker")' }, locations: [] },
    );
    expect(messages(logs).map((m) => m.replace(/^\[lua\] [^ ]+ /, ''))).toEqual(['body', 'config init', 'init args=0', 'initWorker']);
    await engine.close();
  });

  it('may not block: core.sleep raises and the engine does not start', async () => {
    const dir = luaDir({ 'x.lua': 'core.register_init(function() core.msleep(10) end)' });
    const logs: string[] = [];
    await expect(createEngine({ lua: { prefix: dir }, luaLoad: ['x.lua'], locations: [] }, { logger: (e) => logs.push(e.message) })).rejects.toMatchObject({ code: 'PHASEKIT_ERR_HANDLER' });
    expect(logs.join('\n')).toContain('core.msleep: cannot block in the init context');
  });
});

describe('task context (core.register_task)', () => {
  const TASK = `
core.register_task(function(step, key)
  local n = 0
  while true do
    n = n + 1
    ngx.shared.stats:set(key, n)
    core.sleep(step)
  end
end, 2, "ticks")`;

  it('loops with core.sleep on the engine clock, gets its arguments, and stops on close', async () => {
    const clock = createClock();
    const { engine, logs } = await hxEngine({ 't.lua': TASK }, { sharedDicts: { stats: '1m' }, locations: [] }, { clock });
    const n = () => engine.sharedDicts.stats?.get('ticks');
    expect(n()).toBe(1);
    await clock.tick(1999);
    expect(n()).toBe(1);
    await clock.tick(1);
    expect(n()).toBe(2);
    await clock.tick(6000);
    expect(n()).toBe(5);
    await engine.close();
    expect(clock.pending).toBe(0);
    await clock.tick(10_000);
    expect(n()).toBe(5);
    expect(logs).toEqual([]);
  });

  it('restarts in the new generation on reload; the old one stops', async () => {
    const clock = createClock();
    const { engine } = await hxEngine({ 't.lua': TASK.replace('local n = 0', 'local n = ngx.shared.stats:get(key) or 0') }, { sharedDicts: { stats: '1m' }, locations: [] }, { clock });
    await clock.tick(2000);
    expect(engine.sharedDicts.stats?.get('ticks')).toBe(2);
    await engine.reload();
    // The new task ran once at start; only one task sleeps now.
    expect(engine.sharedDicts.stats?.get('ticks')).toBe(3);
    expect(clock.pending).toBe(1);
    await clock.tick(2000);
    expect(engine.sharedDicts.stats?.get('ticks')).toBe(4);
    await engine.close();
    expect(clock.pending).toBe(0);
  });

  it('core.msleep, core.yield and core.now; a task that catches the stop still ends', async () => {
    const clock = createClock(Date.UTC(2026, 0, 1, 0, 0, 0, 250));
    const { engine, logs } = await hxEngine(
      {
        't.lua': `
core.register_task(function()
  local t = core.now()
  core.Info("now " .. t.sec .. " " .. t.usec)
  core.yield()
  while true do
    local ok, err = pcall(core.msleep, 500)
    core.Info("woke " .. tostring(ok) .. " " .. tostring(err))
  end
end)`,
      },
      { locations: [] },
      { clock },
    );
    await clock.tick(500);
    await engine.close();
    expect(messages(logs)).toEqual([
      `now ${Date.UTC(2026, 0, 1) / 1000} 250000`,
      'woke true nil',
      expect.stringMatching(/^woke false .*task stopped/) as string,
    ]);
  });

  it('an error in a task is logged and harms nothing', async () => {
    const { engine, logs } = await hxEngine({ 't.lua': 'core.register_task(function() error("task boom") end)' }, { locations: [{ match: '/', content: { lua: 'ngx.say("ok")' } }] });
    expect(logs[0]?.message).toContain('task failed: t.lua:1: task boom');
    expect((await inject(engine, '/')).body).toBe('ok\n');
    await engine.close();
  });

  it('a task registered from an action starts at once', async () => {
    const clock = createClock();
    const { engine, logs } = await hxEngine(
      { 'x.lua': 'core.register_action("spawn", { "http-req" }, function(txn) core.register_task(function(who) core.msleep(10) core.Info("task for " .. who) end, txn.sf:path()) end)' },
      { locations: [{ match: '/', actions: { 'http-req': ['lua.spawn'] }, content: { lua: 'ngx.say("ok")' } }] },
      { clock },
    );
    expect((await inject(engine, '/p')).body).toBe('ok\n');
    await clock.tick(10);
    expect(messages(logs)).toEqual(['task for /p']);
    await engine.close();
  });
});

describe('sample-fetch and converter contexts', () => {
  const FILES = {
    'f.lua': `
core.register_fetches("hello", function(txn, who) return "hello " .. (who or "nobody") .. " via " .. txn.f:method() end)
core.register_fetches("none", function(txn) return nil end)
core.register_fetches("slow", function(txn) core.sleep(1) return "late" end)
core.register_fetches("early", function(txn) core.done("early") return "never" end)
core.register_converters("wrap", function(s, l, r) return (l or "[") .. s .. (r or "]") end)
core.register_converters("peek", function(s) return ngx.var.uri end)
core.register_converters("stall", function(s) core.yield() return s end)
core.register_action("show", { "http-req" }, function(txn)
  local f = txn.f
  ngx.say(f:lua_hello("ann"), "|", tostring(f:lua_none()), "|", txn.sf:lua_none(), "|", txn.c:lua_wrap("x", "<", ">"), "|", txn.sc:lua_wrap("y"), "|", f:lua_early())
  return ngx.exit(200)
end)
core.register_action("slow", { "http-req" }, function(txn) return txn.f:lua_slow() end)
core.register_action("stall", { "http-req" }, function(txn) return txn.c:lua_stall("s") end)
core.register_action("peek", { "http-req" }, function(txn) return txn.c:lua_peek("s") end)`,
  };

  it('string fcn(txn, ...) and string fcn(string, ...): called from Lua (f, sf, c, sc) and from config', async () => {
    const { engine } = await hxEngine(FILES, {
      locations: [
        { match: '= /show', actions: { 'http-req': ['lua.show'] } },
        { match: '= /cfg', setHeaders: { 'X-Hello': '%[lua.hello(bob),lua.wrap(<,>)]' }, content: { lua: 'ngx.say("ok")' } },
      ],
    });
    expect((await inject(engine, '/show')).body).toBe('hello ann via GET|nil||<x>|[y]|early\n');
    expect((await inject(engine, '/cfg')).headers['x-hello']).toBe('<hello bob via GET>');
    await engine.close();
  });

  it('may not block: core.sleep and core.yield raise there, naming the context', async () => {
    const { engine, logs } = await hxEngine(FILES, {
      locations: [
        { match: '= /slow', actions: { 'http-req': ['lua.slow'] } },
        { match: '= /stall', actions: { 'http-req': ['lua.stall'] } },
        { match: '= /var', vars: { v: '%[lua.slow]' }, content: { lua: 'ngx.say(ngx.var.v)' } },
      ],
    });
    expect((await inject(engine, '/slow')).status).toBe(500);
    expect(logs[0]?.message).toContain('core.sleep: cannot block in the sample-fetch context (lua.slow)');
    expect((await inject(engine, '/stall')).status).toBe(500);
    expect(logs[1]?.message).toContain('core.yield: cannot block in the converter context (lua.stall)');
    expect((await inject(engine, '/var')).status).toBe(500);
    expect(logs[2]?.message).toContain('core.sleep: cannot block in the sample-fetch context (lua.slow)');
    await engine.close();
  });

  it('a converter has no request: ngx request APIs fail there', async () => {
    const { engine, logs } = await hxEngine(FILES, { locations: [{ match: '/', actions: { 'http-req': ['lua.peek'] } }] });
    expect((await inject(engine, '/')).status).toBe(500);
    expect(logs[0]?.message).toContain('no request found');
    await engine.close();
  });
});

describe('action and service contexts', () => {
  it('fcn(txn, args...) per config arguments (nb_args), and fcn(applet)', async () => {
    const { engine } = await hxEngine(
      {
        'x.lua': `
core.register_action("tag", { "http-req", "http-res" }, function(txn, a, b)
  if ngx.get_phase() == "access" then txn.http:req_set_header("x-tag", a .. "+" .. b)
  else txn.http:res_set_header("x-tag", b .. "+" .. a) end
end, 2)
core.register_service("echo", "http", function(applet)
  applet:start_response()
  applet:send(applet.headers["x-tag"][0])
end)`,
      },
      { locations: [{ match: '/', actions: { 'http-req': ['lua.tag(one,two)'], 'http-res': ['lua.tag(1, "2,3")'] }, service: 'lua.echo' }] },
    );
    const res = await inject(engine, '/');
    expect(res.body).toBe('one+two');
    expect(res.headers['x-tag']).toBe('2,3+1');
    await engine.close();
  });

  it('an action may wait (core.sleep, ngx.sleep); an http-res action may not', async () => {
    const clock = createClock();
    const { engine, logs } = await hxEngine(
      {
        'x.lua': `
core.register_action("wait", { "http-req", "http-res" }, function(txn) core.msleep(100) txn:set_var("txn.waited", "yes") end)`,
      },
      {
        locations: [
          { match: '= /req', actions: { 'http-req': ['lua.wait'] }, content: { lua: 'ngx.say(ngx.var.txn_waited)' } },
          { match: '= /res', actions: { 'http-res': ['lua.wait'] }, content: { lua: 'ngx.say("body")' } },
        ],
      },
      { clock },
    );
    const pending = inject(engine, '/req');
    await clock.tick(100);
    expect((await pending).body).toBe('yes\n');
    const res = await inject(engine, '/res');
    expect(res.aborted).toBe(true);
    expect(logs[0]?.message).toContain('core.msleep: cannot block in an http-res action (lua.wait runs in header_filter, which cannot wait)');
    await engine.close();
  });
});

describe('core everywhere', () => {
  it('core and act are globals of { lua } handlers too; core.log names the request; core.done ends an action (CONTINUE) or a service', async () => {
    const { engine, logs } = await hxEngine(
      {
        'x.lua': `
core.register_action("quit", { "http-req" }, function(txn)
  local function deep() core.done() end
  deep()
  error("not reached")
end)
core.register_service("short", "http", function(applet)
  applet:start_response()
  applet:send("one")
  core.done()
  applet:send("two")
end)`,
      },
      {
        locations: [
          { match: '= /plain', content: { lua: 'core.Warning("from a plain handler")\ncore.msleep(1)\nngx.say(type(core.register_task), " ", act.DENY)' } },
          { match: '= /quit', actions: { 'http-req': ['lua.quit'] }, content: { lua: 'ngx.say("went on")' } },
          { match: '= /short', service: 'lua.short' },
        ],
      },
    );
    expect((await inject(engine, '/plain')).body).toBe('function 5\n');
    expect(logs[0]).toMatchObject({ level: 'warn', message: 'from a plain handler', request: 'GET /plain HTTP/1.1' });
    expect((await inject(engine, '/quit')).body).toBe('went on\n');
    expect((await inject(engine, '/short')).body).toBe('one');
    await engine.close();
  });

  it('core.log refuses a bad level; act.YIELD in http-res is an error (500)', async () => {
    const { engine, logs } = await hxEngine(
      { 'x.lua': 'core.register_action("y", { "http-res" }, function(txn) return act.YIELD end)' },
      {
        locations: [
          { match: '= /bad', content: { lua: 'core.log(9, "x")' } },
          { match: '= /y', actions: { 'http-res': ['lua.y'] }, content: { lua: 'ngx.say("x")' } },
        ],
      },
    );
    expect((await inject(engine, '/bad')).status).toBe(500);
    expect(logs[0]?.message).toContain('Invalid loglevel.');
    expect((await inject(engine, '/y')).status).toBe(500);
    expect(messages(logs)).toContain('action "lua.y" returned act.YIELD in http-res, which cannot wait');
    await engine.close();
  });
});
