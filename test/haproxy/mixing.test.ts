// TypeScript and Lua registrations share the lua.* namespace: each side calls the other's fetches, converters and actions.
import { describe, expect, it } from 'vitest';
import { ACT, createClock, createEngine, Engine, inject, TaskStoppedError, type FetchFn, type HaproxyRegistrations } from 'phasekit';
import { hxEngine, luaDir } from './helpers.js';

const geo: FetchFn = (txn) => ({ '10.0.0.1': 'fr', '10.0.0.2': 'de' })[txn.fetch('src') ?? ''] ?? 'zz';

const TS: HaproxyRegistrations = {
  fetches: { geo },
  converters: { mask: (value, keep = '2') => value.slice(0, Number(keep)) + '*'.repeat(Math.max(0, value.length - Number(keep))) },
  actions: {
    // A TS action calling a Lua fetch and a Lua converter.
    'ts-tag': { on: ['http-req'], fn: (txn) => txn.http.reqSetHeader('x-ts', txn.convert('lua.tag', txn.fetch('lua.who') ?? '?') ?? '') },
  },
};

const LUA = {
  'mix.lua': `
core.register_fetches("who", function(txn) return txn.sf:req_hdr("x-user") end)
core.register_converters("tag", function(s) return "<" .. s .. ">" end)
core.register_action("lua-geo", { "http-req" }, function(txn)
  -- a TS fetch and a TS converter, from Lua
  txn:set_var("txn.geo", txn.f:lua_geo())
  txn:set_var("txn.masked", txn.c:lua_mask(txn.sf:req_hdr("x-card"), 4))
end)`,
};

describe('TypeScript and Lua registrations mixing', () => {
  it('a Lua action uses a TS fetch and a TS converter', async () => {
    const { engine } = await hxEngine(LUA, {
      locations: [{ match: '/', actions: { 'http-req': ['lua.lua-geo'] }, content: { lua: 'ngx.say(ngx.var.txn_geo, " ", ngx.var.txn_masked)' } }],
    }, { haproxy: TS });
    const res = await inject(engine, { url: '/', remoteAddress: '10.0.0.2', headers: { 'x-card': '12345678' } });
    expect(res.body).toBe('de 1234****\n');
    await engine.close();
  });

  it('a sample expression chains a TS fetch and a Lua converter (and the reverse)', async () => {
    const { engine } = await hxEngine(LUA, {
      locations: [{ match: '/', setHeaders: { 'X-Geo': '%[lua.geo,lua.tag,upper]', 'X-Who': '%[lua.who,lua.mask(1)]' }, content: { lua: 'ngx.say("ok")' } }],
    }, { haproxy: TS });
    const res = await inject(engine, { url: '/', remoteAddress: '10.0.0.1', headers: { 'x-user': 'alice' } });
    expect([res.headers['x-geo'], res.headers['x-who']]).toEqual(['<FR>', 'a****']);
    await engine.close();
  });

  it('a TS action calls a Lua fetch and a Lua converter', async () => {
    const { engine } = await hxEngine(LUA, {
      locations: [{ match: '/', actions: { 'http-req': ['lua.ts-tag'] }, content: { lua: 'ngx.say(ngx.req.get_headers()["x-ts"])' } }],
    }, { haproxy: TS });
    expect((await inject(engine, { url: '/', headers: { 'x-user': 'bob' } })).body).toBe('<bob>\n');
    await engine.close();
  });

  it('one namespace: Lua cannot register a name TypeScript has, nor TypeScript one the running Lua has', async () => {
    const dir = luaDir({ 'dup.lua': 'core.register_fetches("geo", function(txn) return "lua" end)' });
    await expect(createEngine({ lua: { prefix: dir }, luaLoad: ['dup.lua'], locations: [] }, { haproxy: TS, logger: () => undefined })).rejects.toMatchObject({
      code: 'PHASEKIT_ERR_HANDLER',
      message: expect.stringContaining('fetch "lua.geo" is already registered') as string,
    });
    const { engine } = await hxEngine(LUA, { locations: [] });
    expect(() => engine.registerConverter('tag', (s) => s)).toThrow(expect.objectContaining({ code: 'PHASEKIT_ERR_BAD_ARGUMENT', message: 'converter "lua.tag" is already registered' }));
    engine.registerConverter('fresh', (s) => s);
    await engine.close();
  });

  it('a TS fetch that returns a promise is refused (fetches may not wait)', async () => {
    const logs: string[] = [];
    const engine = await createEngine(
      { locations: [{ match: '/', setHeaders: { 'X-A': '%[lua.slow]' }, content: (ngx) => ngx.say('ok') }, { match: '= /v', vars: { a: '%[lua.slow]' }, content: (ngx) => ngx.say('ok') }] },
      { logger: (e) => logs.push(e.message), haproxy: { fetches: { slow: (() => Promise.resolve('x')) as unknown as FetchFn } } },
    );
    expect((await inject(engine, '/v')).status).toBe(500);
    expect(logs[0]).toContain('sample fetch "lua.slow" returned a promise: sample fetches and converters may not wait');
    await engine.close();
  });
});

describe('TypeScript tasks', () => {
  it('registerTask: loops on the engine clock, restarts on reload, task.sleep rejects with TaskStoppedError on close', async () => {
    const clock = createClock();
    const ticks: string[] = [];
    let stopped: unknown;
    const engine = new Engine({ locations: [] }, { clock });
    let gen = 0;
    engine.registerTask(async (task, label) => {
      const mine = ++gen;
      try {
        for (;;) {
          ticks.push(`${String(label)}${mine}@${task.ngx.now()}`);
          await task.sleep(1);
        }
      } catch (err) {
        stopped = err;
      }
    }, 't');
    await engine.start();
    await clock.tick(1000);
    await engine.reload();
    await clock.tick(1000);
    await engine.close();
    const t0 = Date.UTC(2026, 0, 1) / 1000;
    expect(ticks).toEqual([`t1@${t0}`, `t1@${t0 + 1}`, `t2@${t0 + 1}`, `t2@${t0 + 2}`]);
    expect(stopped).toBeInstanceOf(TaskStoppedError);
    expect((stopped as TaskStoppedError).code).toBe('PHASEKIT_ERR_TASK_STOPPED');
    expect(clock.pending).toBe(0);
  });

  it('a task registered while the engine runs starts at once', async () => {
    const engine = await createEngine({ locations: [] });
    let ran = false;
    engine.registerTask((task) => {
      ran = task.ngx.getPhase() === 'timer';
    });
    expect(ran).toBe(true);
    await engine.close();
  });
});

describe('TypeScript-only engines', () => {
  it('actions, fetches and services need no Lua runtime', async () => {
    const engine = await createEngine(
      { locations: [{ match: '/', actions: { 'http-req': ['lua.need-key'] }, service: 'lua.hi', setHeaders: { 'X-Geo': '%[lua.geo]' } }] },
      {
        haproxy: {
          fetches: { geo },
          actions: { 'need-key': { on: ['http-req'], fn: (txn) => (txn.fetch('req.hdr', 'x-key') === 'k' ? ACT.CONTINUE : ACT.DENY) } },
          services: {
            hi: (applet) => {
              applet.startResponse();
              applet.send(`hi ${applet.fetch('lua.geo') ?? ''}`);
            },
          },
        },
      },
    );
    expect(engine.runtimes).toEqual([]);
    expect((await inject(engine, '/')).status).toBe(403);
    const ok = await inject(engine, { url: '/', headers: { 'x-key': 'k' }, remoteAddress: '10.0.0.1' });
    expect([ok.body, ok.headers['x-geo']]).toEqual(['hi fr', 'fr']);
    await engine.close();
  });
});
