// Light threads, semaphores and ngx.on_abort, with the answers nginx 1.22 + lua-nginx-module 0.10.23
// gave for the same code (recorded by hand; see test/openresty/cases/cosockets.mjs for the recorded ones).
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createClock, createEngine, inject, type EngineConfig, type LogEntry } from 'phasekit';
import { serve, waitFor, type Served } from './cosocket-servers.js';

const P = 'local function p(...) local n = select("#", ...) local t = {...} for i = 1, n do t[i] = tostring(t[i]) end ngx.say(table.concat(t, " | ")) end\n';

const engines: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const e of engines.splice(0)) await e.close();
});

async function engine(config: EngineConfig, clock?: ReturnType<typeof createClock>) {
  const logs: LogEntry[] = [];
  const e = await createEngine(config, { logger: (x) => logs.push(x), ...(clock ? { clock } : {}) });
  engines.push(e);
  return { e, logs };
}

/** A log line without the `[lua] file:line: ` prefix ngx.log gives it. */
const text = (l: LogEntry) => l.message.replace(/^\[lua\] [^\n]*?:\d+: /, '');

const at = (match: string, content: string) => ({ match, content: { lua: P + content } });

describe('ngx.thread', () => {
  it('spawn runs the thread at once until it waits; wait returns its results; kill and their refusals', async () => {
    const { e, logs } = await engine({ locations: [at('/', `
      local log = {}
      local t1 = ngx.thread.spawn(function(a, b) log[#log+1] = "t1 start " .. a .. b; ngx.sleep(0.01); log[#log+1] = "t1 end"; return "r1", "r2" end, "x", "y")
      log[#log+1] = "after spawn"
      p("status", coroutine.status(t1), tostring(t1):sub(1, 7))
      p("wait", ngx.thread.wait(t1))
      p("log", table.concat(log, ","))
      p("wait again", ngx.thread.wait(t1))
      local t2 = ngx.thread.spawn(function() return { 1 }, 2 end)
      p("status done", coroutine.status(t2))
      local ok, tbl, two = ngx.thread.wait(t2)
      p("wait done", ok, type(tbl), tbl[1], two)
      local t3 = ngx.thread.spawn(function() error("boom") end)
      p("wait err", ngx.thread.wait(t3))
      local ta = ngx.thread.spawn(function() ngx.sleep(0.05) return "slow" end)
      local tb = ngx.thread.spawn(function() ngx.sleep(0.01) return "fast" end)
      p("wait any", ngx.thread.wait(ta, tb))
      p("kill ta", ngx.thread.kill(ta))
      p("kill ta again", ngx.thread.kill(ta))
      p("kill non-user", ngx.thread.kill(coroutine.running()))
      p("kill bad", pcall(ngx.thread.kill, 1))
      p("wait none", pcall(ngx.thread.wait))
      p("spawn bad", pcall(ngx.thread.spawn, 1))
      local td = ngx.thread.spawn(function() return ngx.thread.spawn(function() ngx.sleep(0.01) return "grand" end) end)
      local _, te = ngx.thread.wait(td)
      p("wait grandchild", pcall(ngx.thread.wait, te))
      p("kill grandchild", ngx.thread.kill(te))`)] });
    expect((await inject(e, '/')).body).toBe([
      'status | running | thread:',
      'wait | true | r1 | r2',
      'log | t1 start xy,after spawn,t1 end',
      'wait again | nil | already waited or killed',
      'status done | zombie',
      'wait done | true | table | 1 | 2',
      'wait err | false | content(location "/"):14: boom',
      'wait any | true | fast',
      'kill ta | 1',
      'kill ta again | nil | already waited or killed',
      'kill non-user | nil | not user thread',
      "kill bad | false | bad argument #1 to '?' (lua thread expected)",
      'wait none | false | at least one coroutine should be specified',
      "spawn bad | false | bad argument #1 to '?' (Lua function expected)",
      'wait grandchild | false | only the parent coroutine can wait on the thread',
      'kill grandchild | nil | killer not parent',
      '',
    ].join('\n'));
    expect(logs.map((l) => l.message.split('\n')[0])).toEqual(['lua user thread aborted: runtime error: content(location "/"):14: boom']);
  });

  it('the request ends when its threads are done; ngx.exit in any thread ends it; errors', async () => {
    const { e, logs } = await engine({ locations: [
      at('= /late', 'ngx.thread.spawn(function() ngx.sleep(0.02) ngx.say("late thread") end) ngx.say("entry done")'),
      at('= /entry-exit', 'ngx.thread.spawn(function() ngx.sleep(0.02) ngx.say("late thread") end) ngx.say("entry exit") ngx.exit(200)'),
      at('= /thread-exit', 'ngx.thread.spawn(function() ngx.say("thread exits") ngx.exit(202) end) ngx.sleep(0.02) ngx.say("entry after")'),
      at('= /thread-error', 'ngx.thread.spawn(function() ngx.sleep(0.01) error("thread boom") end) ngx.sleep(0.03) ngx.say("entry survives")'),
      at('= /entry-error', 'ngx.thread.spawn(function() ngx.sleep(0.02) ngx.say("thread runs on") end) error("entry boom")'),
      { match: '= /rewrite', rewrite: { lua: 'ngx.thread.spawn(function() ngx.sleep(0.02) ngx.ctx.x = "rewrite thread done" end)' }, content: { lua: 'ngx.say(ngx.ctx.x)' } },
      at('= /timer', 'ngx.timer.at(0, function() local t = ngx.thread.spawn(function() return "in timer" end) local _, v = ngx.thread.wait(t) ngx.log(ngx.ERR, v) end) ngx.say("ok")'),
    ] });
    expect((await inject(e, '/late')).body).toBe('entry done\nlate thread\n');
    expect((await inject(e, '/entry-exit')).body).toBe('entry exit\n');
    expect((await inject(e, '/thread-exit')).body).toBe('thread exits\n');
    expect((await inject(e, '/thread-error')).body).toBe('entry survives\n');
    expect(logs.some((l) => l.message.startsWith('lua user thread aborted: runtime error: content(location "= /thread-error"):2: thread boom'))).toBe(true);
    const failed = await inject(e, '/entry-error');
    expect(failed.status).toBe(500);
    await new Promise((r) => setTimeout(r, 40));
    expect((await inject(e, '/rewrite')).body).toBe('rewrite thread done\n');
    await inject(e, '/timer');
    await waitFor(() => logs.some((l) => text(l) === 'in timer'));
  });

  it('threads are refused where OpenResty refuses them', async () => {
    const { e, logs } = await engine({ locations: [{
      match: '/',
      content: { lua: 'ngx.say("x")' },
      headerFilter: { lua: 'local ok, err = pcall(ngx.thread.spawn, function() end) ngx.header["X-Spawn"] = err' },
      log: { lua: 'local ok, err = pcall(ngx.thread.spawn, function() end) ngx.log(ngx.ERR, "log: ", err)' },
    }] });
    const res = await inject(e, '/');
    expect(res.headers['x-spawn']).toBe('API disabled in the context of header_filter_by_lua*');
    await waitFor(() => logs.length > 0);
    expect(text(logs[0] as LogEntry)).toBe('log: API disabled in the context of log_by_lua*');
  });
});

describe('ngx.semaphore', () => {
  it('new, post, wait with and without a timeout, count; post wakes waiters on a later turn', async () => {
    const { e } = await engine({ locations: [at('/', `
      local sema = require "ngx.semaphore"
      p("field", ngx.semaphore)
      local s = sema.new()
      p("count0", s:count())
      p("wait0", s:wait(0))
      p("wait timeout", s:wait(0.01))
      ngx.thread.spawn(function() ngx.sleep(0.01) s:post(2) end)
      p("wait posted", s:wait(1))
      p("count after", s:count())
      p("wait immediate", s:wait(1))
      p("new neg", pcall(sema.new, -1))
      p("post 0", pcall(s.post, s, 0))
      p("wait neg", pcall(s.wait, s, -1))
      local s2 = sema.new(0)
      local order = {}
      for i = 1, 3 do ngx.thread.spawn(function() local ok = s2:wait(1) order[#order+1] = i .. tostring(ok) end) end
      p("count waiting", s2:count())
      s2:post(3)
      p("after post", table.concat(order, ","))
      ngx.sleep(0)
      p("after a turn", table.concat(order, ","))
      local s3 = sema.new(0)
      local t = ngx.thread.spawn(function() return s3:wait(10) end)
      ngx.thread.kill(t)
      s3:post(1)
      p("a killed waiter takes nothing", s3:count())`)] });
    expect((await inject(e, '/')).body).toBe([
      'field | nil',
      'count0 | 0',
      'wait0 | nil | timeout',
      'wait timeout | false | timeout',
      'wait posted | true | nil',
      'count after | 1',
      'wait immediate | true',
      'new neg | false | no negative number',
      'post 0 | false | positive number required',
      'wait neg | false | no negative number',
      'count waiting | -3',
      'after post | ',
      'after a turn | 1true,2true,3true',
      'a killed waiter takes nothing | 1',
      '',
    ].join('\n'));
  });

  it('a timer posts what a request waits for; the wait times out on the engine clock', async () => {
    const clock = createClock();
    const { e, logs } = await engine({ locations: [
      at('= /post', 'local s = require("ngx.semaphore").new(0) ngx.timer.at(1, function() s:post(1) end) p(s:wait(5))'),
      at('= /timeout', 'local s = require("ngx.semaphore").new(0) p(s:wait(2))'),
      { match: '= /log', content: { lua: 'ngx.say("x")' }, log: { lua: 'local s = require("ngx.semaphore").new(0) ngx.log(ngx.ERR, table.concat({ tostring(s:post()), tostring(s:count()), select(2, s:wait(1)) }, " "))' } },
    ] }, clock);
    const posted = inject(e, '/post');
    await waitFor(() => clock.pending === 2);
    await clock.tick(1000);
    expect((await posted).body).toBe('true | nil\n');
    const timeout = inject(e, '/timeout');
    await waitFor(() => clock.pending === 1);
    await clock.tick(2000);
    expect((await timeout).body).toBe('false | timeout\n');
    await inject(e, '/log');
    await waitFor(() => logs.length > 0);
    expect(text(logs[0] as LogEntry)).toBe('true 1 API disabled in the context of log_by_lua*');
  });
});

describe('ngx.on_abort and checkClientAbort', () => {
  let served: Served | undefined;
  afterEach(async () => {
    await served?.close();
    served = undefined;
  });

  /** Sends a request and goes away before the answer. */
  async function abandon(port: number, path: string) {
    const c = connect(port, '127.0.0.1');
    await new Promise<void>((r) => c.once('connect', () => r()));
    c.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
    await new Promise((r) => setTimeout(r, 30));
    c.destroy();
  }

  it('the handler runs as a user thread; ngx.exit(499) from it ends the request', async () => {
    const clock = createClock();
    served = await serve({
      checkClientAbort: true,
      errorLogLevel: 'info',
      locations: [
        { match: '= /handler', content: { lua: `
          local ok, err = ngx.on_abort(function() ngx.log(ngx.ERR, "on abort runs in ", ngx.get_phase()) ngx.exit(499) end)
          ngx.log(ngx.ERR, "registered ", ok, " ", tostring(err), " ", select(2, ngx.on_abort(function() end)))
          ngx.sleep(100)
          ngx.log(ngx.ERR, "entry after sleep")` }, log: { lua: 'ngx.log(ngx.ERR, "log status ", ngx.status)' } },
        { match: '= /none', content: { lua: 'ngx.sleep(100) ngx.log(ngx.ERR, "entry after sleep")' }, log: { lua: 'ngx.log(ngx.ERR, "log status ", ngx.var.status)' } },
        { match: '= /off', checkClientAbort: false, content: { lua: 'ngx.say(ngx.on_abort(function() end))' } },
      ],
    }, { clock });
    await abandon(served.port, '/handler');
    await waitFor(() => served?.logs.some((l) => text(l).startsWith('log status')) === true);
    expect(served.logs.map(text)).toEqual(['registered 1 nil duplicate call', 'client prematurely closed connection', 'on abort runs in content', 'log status 499']);
    served.logs.length = 0;
    await abandon(served.port, '/none');
    await waitFor(() => served?.logs.some((l) => text(l).startsWith('log status')) === true);
    expect(served.logs.map(text)).toEqual(['client prematurely closed connection', 'log status 499']);
    const off = await fetch(`${served.url}/off`);
    expect(await off.text()).toBe('nillua_check_client_abort is off\n');
  });

  it('without checkClientAbort a handler goes on after the client left', async () => {
    const clock = createClock();
    served = await serve({ locations: [{ match: '/', content: { lua: 'ngx.sleep(1) ngx.log(ngx.ERR, "entry after sleep")' }, log: { lua: 'ngx.log(ngx.ERR, "log status ", ngx.var.status)' } }] }, { clock });
    await abandon(served.port, '/');
    await waitFor(() => clock.pending === 1);
    await clock.tick(1000);
    await waitFor(() => served?.logs.length === 2);
    expect(served.logs.map(text)).toEqual(['entry after sleep', 'log status 200']);
  });
});
