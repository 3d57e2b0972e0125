// runPhase: every phase in Lua and TypeScript, phase rules as in a server, the fake clock, inject alongside.

import { describe, expect, it } from 'vitest';
import { createEngine, SharedDict, type HandlerSpec, type Ngx, type Phase, type SetFn } from '@phasekit/core';
import { luaRuntime } from '@phasekit/lua';
import { createClock } from './clock.js';
import { inject } from './inject.js';
import { createSharedDicts, runPhase, type RunPhaseOptions, type RunPhaseResult } from './run-phase.js';

type Lang = 'lua' | 'ts';

/** The same handler in both languages. */
interface Case {
  phase: Phase;
  lua: string;
  ts: HandlerSpec | SetFn;
  options?: RunPhaseOptions;
  check(out: RunPhaseResult): void;
}

const CASES: Record<string, Case> = {
  set: {
    phase: 'set',
    lua: 'return ngx.arg[1] + ngx.arg[2]',
    ts: ((_ngx: Ngx, a: string, b: string) => Number(a) + Number(b)) as SetFn,
    options: { args: ['2', '3'] },
    check: (out) => expect(out.value).toBe(5),
  },
  rewrite: {
    phase: 'rewrite',
    lua: `ngx.ctx.user = ngx.var.http_x_user
          ngx.var.backend = "v2"
          ngx.req.set_uri("/v2" .. ngx.var.uri)`,
    ts: (ngx: Ngx) => {
      ngx.ctx.user = ngx.var.http_x_user;
      ngx.var.backend = 'v2';
      ngx.req.setUri(`/v2${String(ngx.var.uri)}`);
    },
    options: { request: { path: '/items?id=1', headers: { 'X-User': 'ann' } }, vars: { backend: 'v1' } },
    check: (out) => {
      expect(out.ctx).toEqual({ user: 'ann' });
      expect(out.vars).toEqual({ backend: 'v2' });
      expect(out.exited).toBe(false);
      expect(out.error).toBeUndefined();
    },
  },
  access: {
    phase: 'access',
    lua: 'if ngx.var.remote_addr ~= "10.0.0.1" then return ngx.exit(ngx.HTTP_FORBIDDEN) end',
    ts: (ngx: Ngx) => {
      if (ngx.var.remote_addr !== '10.0.0.1') return ngx.exit(ngx.HTTP_FORBIDDEN);
    },
    options: { request: { remoteAddr: '192.0.2.7' } },
    check: (out) => {
      expect(out.exited).toBe(true);
      expect(out.exitStatus).toBe(403);
      expect(out.status).toBe(403);
    },
  },
  content: {
    phase: 'content',
    lua: `ngx.req.read_body()
          ngx.header["Content-Type"] = "text/plain"
          ngx.say(ngx.req.get_method(), " ", ngx.var.uri, " ", ngx.var.arg_q, " ", ngx.req.get_body_data())`,
    ts: async (ngx: Ngx) => {
      await ngx.req.readBody();
      ngx.header['Content-Type'] = 'text/plain';
      ngx.say(ngx.req.getMethod(), ' ', String(ngx.var.uri), ' ', String(ngx.var.arg_q), ' ', ngx.req.getBodyData());
    },
    options: { request: { method: 'POST', path: '/search?q=dogs', body: 'hello' } },
    check: (out) => {
      expect(out.status).toBe(200);
      expect(out.headers['content-type']).toBe('text/plain');
      expect(out.body).toBe('POST /search dogs hello\n');
    },
  },
  headerFilter: {
    phase: 'headerFilter',
    lua: `ngx.header["X-Frame-Options"] = "DENY"
          ngx.header["Server"] = nil
          if ngx.status == 404 then ngx.status = 410 end`,
    ts: (ngx: Ngx) => {
      ngx.header['X-Frame-Options'] = 'DENY';
      ngx.header.Server = undefined;
      if (ngx.status === 404) ngx.status = 410;
    },
    options: { upstream: { status: 404, headers: { Server: 'backend/1.0', 'Content-Type': 'text/html' } } },
    check: (out) => {
      expect(out.status).toBe(410);
      expect(out.headers['x-frame-options']).toBe('DENY');
      expect(out.headers['content-type']).toBe('text/html');
      expect(out.headers.server).toBeUndefined();
    },
  },
  bodyFilter: {
    phase: 'bodyFilter',
    lua: 'ngx.arg[1] = string.upper(ngx.arg[1]) if ngx.arg[2] then ngx.arg[1] = ngx.arg[1] .. "!" end',
    ts: (ngx: Ngx) => {
      ngx.arg.chunk = String(ngx.arg.chunk).toUpperCase();
      if (ngx.arg.eof) ngx.arg.chunk += '!';
    },
    options: { upstream: { chunks: ['hello ', 'world'] } },
    check: (out) => {
      expect(out.chunks).toEqual([
        { chunk: 'HELLO ', eof: false },
        { chunk: 'WORLD!', eof: true },
      ]);
    },
  },
  log: {
    phase: 'log',
    lua: 'ngx.shared.stats:incr("status:" .. ngx.var.status, 1, 0) ngx.log(ngx.INFO, "user ", ngx.ctx.user)',
    ts: (ngx: Ngx) => {
      ngx.shared.stats?.incr(`status:${String(ngx.var.status)}`, 1, 0);
      ngx.log(ngx.INFO, 'user ', String(ngx.ctx.user));
    },
    options: { upstream: { status: 503 }, ctx: { user: 'ann' }, sharedDicts: { stats: '1m' } },
    check: (out) => {
      expect(out.sharedDicts.stats?.get('status:503')).toBe(1);
      expect(out.logs).toEqual([expect.objectContaining({ level: 'info', message: expect.stringMatching(/user ann$/) })]);
    },
  },
  init: {
    phase: 'init',
    lua: 'ngx.shared.config:set("mode", "strict")',
    ts: (ngx: Ngx) => void ngx.shared.config?.set('mode', 'strict'),
    options: { sharedDicts: { config: '64k' } },
    check: (out) => expect(out.sharedDicts.config?.get('mode')).toBe('strict'),
  },
  initWorker: {
    phase: 'initWorker',
    lua: 'ngx.timer.every(60, function() end)',
    ts: (ngx: Ngx) => void ngx.timer.every(60, () => undefined),
    check: (out) => {
      expect(out.error).toBeUndefined();
      expect(out.timers).toEqual([expect.objectContaining({ delay: 60, every: true })]);
    },
  },
  timer: {
    phase: 'timer',
    lua: 'ngx.shared.jobs:lpush("ran", ngx.get_phase())',
    ts: (ngx: Ngx) => void ngx.shared.jobs?.lpush('ran', ngx.getPhase()),
    options: { sharedDicts: { jobs: '64k' } },
    check: (out) => expect(out.sharedDicts.jobs?.lpop('ran')).toEqual(['timer', undefined]),
  },
};

const spec = (c: Case, lang: Lang): HandlerSpec | SetFn => (lang === 'lua' ? { lua: c.lua } : c.ts);

describe.each(['lua', 'ts'] as const)('runPhase in %s', (lang) => {
  it.each(Object.keys(CASES))('runs a %s handler', async (name) => {
    const c = CASES[name] as Case;
    c.check(await runPhase(c.phase, spec(c, lang), c.options));
  });

  it('reports exec, redirect and exit', async () => {
    const exec = await runPhase('rewrite', lang === 'lua' ? { lua: 'return ngx.exec("/fallback", "from=rewrite")' } : (ngx) => ngx.exec('/fallback', 'from=rewrite'));
    expect(exec.exec).toEqual({ uri: '/fallback', args: 'from=rewrite' });
    const named = await runPhase('content', lang === 'lua' ? { lua: 'return ngx.exec("@backend")' } : (ngx) => ngx.exec('@backend'));
    expect(named.exec?.uri).toBe('@backend');
    const redirect = await runPhase('access', lang === 'lua' ? { lua: 'return ngx.redirect("/login", 303)' } : (ngx) => ngx.redirect('/login', 303));
    expect(redirect).toMatchObject({ redirect: { url: '/login', status: 303 }, status: 303, exited: true, headers: { location: '/login' } });
    const ok = await runPhase('access', lang === 'lua' ? { lua: 'return ngx.exit(ngx.OK)' } : (ngx) => ngx.exit(ngx.OK));
    expect(ok).toMatchObject({ exited: true, exitStatus: 0, redirect: undefined, exec: undefined });
  });

  it('regression: ngx.exit(404) in header_filter reports the status a server answers with', async () => {
    const r = await runPhase('headerFilter', lang === 'lua' ? { lua: 'ngx.exit(404)' } : (ngx) => ngx.exit(404), { upstream: { status: 200 } });
    expect(r).toMatchObject({ status: 404, exited: true, exitStatus: 404 });
    const served = await createEngine({ locations: [{ match: '/', content: (ngx) => ngx.say('hi'), headerFilter: lang === 'lua' ? { lua: 'ngx.exit(404)' } : (ngx) => ngx.exit(404) }] }, { logger: () => undefined, runtimes: [luaRuntime()] });
    expect((await inject(served, '/')).status).toBe(404);
    await served.close();
  });

  it('raises OpenResty’s API-disabled error as a server would: logged, error set, 500', async () => {
    const say = await runPhase('headerFilter', lang === 'lua' ? { lua: 'ngx.say("hi")' } : (ngx) => ngx.say('hi'), {
      upstream: { status: 200 },
    });
    expect(say.status).toBe(500);
    expect(String(say.error)).toContain('API disabled in the context of header_filter_by_lua*');
    expect((say.error as { code: string }).code).toBe(lang === 'lua' ? 'PHASEKIT_ERR_LUA_HANDLER' : 'PHASEKIT_ERR_API_DISABLED');
    expect(say.logs).toHaveLength(1);
    expect(say.logs[0]).toMatchObject({ level: 'error', phase: 'headerFilter' });
    expect(say.logs[0]?.message).toContain('API disabled in the context of header_filter_by_lua*');

    const exit = await runPhase('log', lang === 'lua' ? { lua: 'ngx.exit(200)' } : (ngx) => ngx.exit(200));
    expect(exit.logs[0]?.message).toContain('API disabled in the context of log_by_lua*');

    const sleep = await runPhase('set', lang === 'lua' ? { lua: 'ngx.sleep(1) return 1' } : { lua: 'ngx.sleep(1) return 1' });
    expect(String(sleep.error)).toContain('API disabled in the context of set_by_lua*');

    const output = await runPhase('bodyFilter', lang === 'lua' ? { lua: 'ngx.redirect("/x")' } : (ngx) => ngx.redirect('/x'));
    expect(output.logs[0]?.message).toContain('API disabled in the context of body_filter_by_lua*');

    const noRequest = await runPhase('init', lang === 'lua' ? { lua: 'ngx.say(1)' } : (ngx) => ngx.say(1));
    expect(noRequest.logs[0]?.message).toMatch(/no request object found/);
  });

  it('completes a handler that waits, under the fake clock, without real waiting', async () => {
    const started = Date.now();
    const waits =
      lang === 'lua'
        ? { lua: 'local t = ngx.now() ngx.sleep(5) ngx.say(ngx.now() - t)' }
        : async (ngx: Ngx) => {
            const t = ngx.now();
            await new Promise<void>((resolve) => ngx.timer.at(5, () => resolve()));
            ngx.say(ngx.now() - t);
          };
    // runPhase moves the fake clock (its own, or the one given) as far as the handler waits.
    expect((await runPhase('content', waits)).body).toBe('5\n');
    const clock = createClock();
    const before = clock.now();
    expect((await runPhase('content', waits, { clock })).body).toBe('5\n');
    expect(clock.now() - before).toBe(5000);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('expires shared-dict keys on the fake clock', async () => {
    const clock = createClock();
    const dicts = createSharedDicts({ sessions: '1m' }, clock);
    const login =
      lang === 'lua'
        ? { lua: 'ngx.shared.sessions:set("s1", "ann", 30)' }
        : (ngx: Ngx) => void ngx.shared.sessions?.set('s1', 'ann', 30);
    const check =
      lang === 'lua'
        ? { lua: 'if not ngx.shared.sessions:get("s1") then return ngx.exit(401) end' }
        : (ngx: Ngx) => (ngx.shared.sessions?.get('s1') === undefined ? ngx.exit(401) : undefined);
    await runPhase('access', login, { clock, sharedDicts: dicts });
    expect((await runPhase('access', check, { clock, sharedDicts: dicts })).exited).toBe(false);
    await clock.tick(29_999);
    expect((await runPhase('access', check, { clock, sharedDicts: dicts })).exited).toBe(false);
    await clock.tick(1);
    expect((await runPhase('access', check, { clock, sharedDicts: dicts })).exitStatus).toBe(401);
    expect(dicts.sessions?.get('s1')).toBeUndefined();
  });

  it('fires ngx.timer.at callbacks when due; those still pending at the end fire prematurely', async () => {
    const clock = createClock();
    const dicts = createSharedDicts({ t: '64k' }, clock);
    const handler =
      lang === 'lua'
        ? {
            lua: `ngx.timer.at(1, function(premature) ngx.shared.t:set("fired", premature and "premature" or "on time") end)
                  ngx.sleep(2)`,
          }
        : async (ngx: Ngx) => {
            ngx.timer.at(1, (t: Ngx, premature: boolean) => void t.shared.t?.set('fired', premature ? 'premature' : 'on time'));
            await new Promise<void>((resolve) => ngx.timer.at(2, () => resolve()));
          };
    // The timer comes due while the handler sleeps, and fires on time.
    await runPhase('content', handler, { clock, sharedDicts: dicts });
    expect(dicts.t?.get('fired')).toBe('on time');

    // Timers the handler leaves behind fire with premature = true when runPhase closes its engine…
    const later =
      lang === 'lua'
        ? { lua: 'ngx.timer.at(30, function(premature) ngx.log(ngx.NOTICE, "flush premature=", premature) end)' }
        : (ngx: Ngx) => void ngx.timer.at(30, (t: Ngx, premature: boolean) => t.log(ngx.NOTICE, 'flush premature=', premature));
    const early = await runPhase('log', later);
    expect(early.timers).toEqual([expect.objectContaining({ delay: 30, every: false })]);
    expect(early.logs.map((l) => [l.phase, l.message.replace(/^.*: /, '')])).toEqual([['timer', 'flush premature=true']]);
    // …unless advanceAfter lets them come due first.
    const onTime = await runPhase('log', later, { advanceAfter: 30_000 });
    expect(onTime.timers).toEqual([]);
    expect(onTime.logs.map((l) => l.message.replace(/^.*: /, ''))).toEqual(['flush premature=false']);
    if (lang === 'lua') expect(onTime.logs[0]?.message).toBe('[lua] log(location "(test)"):1: flush premature=false');
  });
});

describe('runPhase', () => {
  it('rejects, with the engine closed, when Lua code does not compile', async () => {
    await expect(runPhase('access', { lua: 'if then' })).rejects.toThrow(/access\(location "\(test\)"\):1:/);
  });

  it('rejects when a luaFile cannot be read', async () => {
    await expect(runPhase('access', { luaFile: 'no/such/file.lua' })).rejects.toMatchObject({ code: 'PHASEKIT_ERR_LUA_FILE' });
  });

  it('reports a TypeScript handler that throws as a server would', async () => {
    const out = await runPhase('content', () => {
      throw new Error('boom');
    });
    expect(out.status).toBe(500);
    expect((out.error as Error).message).toBe('boom');
    expect(out.logs[0]?.message).toContain('boom');
  });

  it('loads luaFile and require from lua.prefix / lua.packagePath', async () => {
    const { mkdtempSync, writeFileSync, mkdirSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'phasekit-run-phase-'));
    mkdirSync(join(dir, 'lib'));
    writeFileSync(join(dir, 'lib', 'greet.lua'), 'return { hello = function(n) return "hello " .. n end }');
    writeFileSync(join(dir, 'content.lua'), 'ngx.say(require("greet").hello(ngx.var.arg_name))');
    const out = await runPhase('content', { luaFile: 'content.lua' }, { request: { path: '/?name=ann' }, lua: { prefix: dir, packagePath: './lib/?.lua' } });
    expect(out.body).toBe('hello ann\n');
  });

  it('shares dicts and clock with an engine that inject() drives', async () => {
    const clock = createClock();
    const config = {
      sharedDicts: { hits: '1m' },
      locations: [{ match: '/', content: { lua: 'ngx.say(ngx.shared.hits:get(ngx.var.remote_addr) or 0)' } }],
    };
    const engine = await createEngine(config, { clock, runtimes: [luaRuntime()], logger: () => undefined });
    try {
      // The engine made the dict on its clock; runPhase writes to it, inject reads it back.
      const count = { lua: 'ngx.shared.hits:incr(ngx.var.remote_addr, 1, 0, 60)' };
      for (let i = 0; i < 3; i++) await runPhase('log', count, { sharedDicts: engine.sharedDicts, clock, request: { remoteAddr: '10.0.0.9' } });
      expect((await inject(engine, { url: '/', remoteAddress: '10.0.0.9' })).body).toBe('3\n');
      await clock.tick(60_000);
      expect((await inject(engine, { url: '/', remoteAddress: '10.0.0.9' })).body).toBe('0\n');
    } finally {
      await engine.close();
    }

    // The other way round: dicts made first, handed to both.
    const dicts = createSharedDicts({ hits: '1m' }, clock);
    const other = await createEngine(config, { clock, sharedDicts: dicts, runtimes: [luaRuntime()] });
    try {
      await runPhase('log', (ngx) => void ngx.shared.hits?.incr('127.0.0.1', 1, 0), { sharedDicts: dicts, clock });
      expect((await inject(other, '/')).body).toBe('1\n');
    } finally {
      await other.close();
    }
  });

  it('makes fresh dicts from sizes with the run’s clock, and keeps given ones', async () => {
    const clock = createClock();
    const kept = new SharedDict('kept', '64k', { clock });
    const out = await runPhase('content', { lua: 'ngx.shared.fresh:set("k", 1, 10) ngx.shared.kept:set("k", 2)' }, { clock, sharedDicts: { fresh: '64k', kept } });
    expect(out.sharedDicts.kept).toBe(kept);
    expect(out.sharedDicts.fresh?.get('k')).toBe(1);
    await clock.tick(10_000);
    expect(out.sharedDicts.fresh?.get('k')).toBeUndefined();
    expect(kept.get('k')).toBe(2);
  });

  it('starts no Lua VM for TypeScript handlers, so hundreds of runs take milliseconds', async () => {
    const started = performance.now();
    for (let i = 0; i < 200; i++) await runPhase('access', (ngx) => ngx.exit(ngx.OK));
    // About 0.2 ms each; a VM per run (6 to 15 ms) would take seconds.
    expect(performance.now() - started).toBeLessThan(1500);
  });
});

describe('the fake clock with a whole engine', () => {
  it('fires a timer a request started when the test ticks past it', async () => {
    const clock = createClock();
    const engine = await createEngine(
      {
        sharedDicts: { t: '64k' },
        locations: [{ match: '/', content: { lua: 'ngx.timer.at(2, function(p) ngx.shared.t:set("fired", not p) end) ngx.say("scheduled")' } }],
      },
      { clock, runtimes: [luaRuntime()], logger: () => undefined },
    );
    try {
      expect((await inject(engine, '/')).body).toBe('scheduled\n');
      await clock.tick(1999);
      expect(engine.sharedDicts.t?.get('fired')).toBeUndefined();
      await clock.tick(1);
      expect(engine.sharedDicts.t?.get('fired')).toBe(true);
    } finally {
      await engine.close();
    }
  });
});
