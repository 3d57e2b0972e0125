// The plugin model: ordering, precedence, config errors, Lua and TypeScript plugins in one chain,
// exits and failures mid-chain, phase rules, init_worker, timing.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { afterEach, describe, expect, it } from 'vitest';
import { definePlugin, inject, PluginOrderError, type Ngx, type Plugin, type PluginTimingInfo } from 'phasekit';
import { luaPlugins, pluginEngine, startError } from './helpers.js';

/** A TS plugin that appends `name:phase` to X-Trace (a request header, read back by the content handler). */
function tracer(name: string, priority: number, extra: Partial<Parameters<typeof definePlugin>[0]> = {}): Plugin {
  const mark = (ngx: Ngx, phase: string) => {
    const prior = ngx.ctx.trace as string[] | undefined;
    ngx.ctx.trace = [...(prior ?? []), `${name}:${phase}`];
  };
  return definePlugin({
    name,
    priority,
    access: (ngx) => mark(ngx, 'access'),
    headerFilter: (ngx) => {
      mark(ngx, 'header_filter');
      ngx.header[`X-${name}`] = 'seen';
    },
    ...extra,
  });
}

const content = (ngx: Ngx) => ngx.say((ngx.ctx.trace as string[] | undefined)?.join(',') ?? '');

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

async function engineWith(...args: Parameters<typeof pluginEngine>) {
  const r = await pluginEngine(...args);
  closers.push(() => r.engine.close());
  return r;
}

describe('ordering', () => {
  it('runs plugins by descending priority, equal priorities in config order (global first)', async () => {
    const plugins = [tracer('low', 10), tracer('high', 2000), tracer('mid-b', 500), tracer('mid-a', 500)];
    const { engine } = await engineWith(
      { plugins: [{ name: 'mid-b' }], locations: [{ match: '/', plugins: [{ name: 'low' }, { name: 'mid-a' }, { name: 'high' }], content }] },
      { plugins },
    );
    expect((await inject(engine, '/')).body).toBe('high:access,mid-b:access,mid-a:access,low:access\n');
    expect(engine.describePlugins()[0]?.plugins.map((p) => p.name)).toEqual(['high', 'mid-b', 'mid-a', 'low']);
  });

  it('honours before/after constraints over priorities, from the definition and from the entry', async () => {
    const plugins = [tracer('a', 100, { after: ['c'] }), tracer('b', 200), tracer('c', 50)];
    const { engine } = await engineWith({ locations: [{ match: '/', plugins: [{ name: 'a' }, { name: 'b', after: ['a'] }, { name: 'c' }], content }] }, { plugins });
    expect((await inject(engine, '/')).body).toBe('c:access,a:access,b:access\n');
  });

  it('ignores constraints naming plugins that are not in the chain', async () => {
    const { engine } = await engineWith({ locations: [{ match: '/', plugins: [{ name: 'a', before: ['nope'] }, { name: 'b' }], content }] }, { plugins: [tracer('a', 1), tracer('b', 2)] });
    expect((await inject(engine, '/')).body).toBe('b:access,a:access\n');
  });

  it('refuses a cycle with PHASEKIT_ERR_PLUGIN_ORDER naming it; nothing starts', async () => {
    let started = false;
    const err = await startError(
      { initWorker: () => void (started = true), locations: [{ match: '/x', plugins: [{ name: 'a', before: ['b'] }, { name: 'b', before: ['c'] }, { name: 'c', before: ['a'] }], content }] },
      { plugins: [tracer('a', 1), tracer('b', 2), tracer('c', 3)] },
    );
    expect(err).toBeInstanceOf(PluginOrderError);
    expect(err.code).toBe('PHASEKIT_ERR_PLUGIN_ORDER');
    expect(err.message).toBe('locations[0]: the plugins\' before/after constraints form a cycle: "a" runs before "b" runs before "c" runs before "a"');
    expect(started).toBe(false);
  });
});

describe('precedence', () => {
  const echoConf = definePlugin({
    name: 'conf',
    priority: 1,
    access: (ngx, conf) => {
      ngx.ctx.trace = [JSON.stringify(conf)];
    },
  });

  it('a location entry wins over the global one; enabled: false turns a global plugin off', async () => {
    const { engine } = await engineWith(
      {
        plugins: [{ name: 'conf', config: { from: 'global' } }],
        locations: [
          { match: '/loc', plugins: [{ name: 'conf', config: { from: 'location' } }], content },
          { match: '/off', plugins: [{ name: 'conf', enabled: false }], content },
          { match: '/', content },
        ],
      },
      { plugins: [echoConf] },
    );
    expect((await inject(engine, '/loc')).body).toBe('{"from":"location"}\n');
    expect((await inject(engine, '/off')).body).toBe('\n');
    expect((await inject(engine, '/')).body).toBe('{"from":"global"}\n');
  });
});

describe('config errors', () => {
  it('names the plugin entry and the path inside its conf; nothing starts', async () => {
    let started = false;
    const err = await startError({
      sharedDicts: { rate_limiting_counters: '1m' },
      init: () => void (started = true),
      plugins: [{ name: 'nope' }],
      locations: [
        { match: '/a', content },
        { match: '/b', plugins: [{ name: 'rate-limiting', config: { second: 0 } }, { name: 'key-auth', config: { key_names: 'apikey' } }], content },
      ],
    });
    expect(err.code).toBe('PHASEKIT_ERR_CONFIG');
    expect(err.issues).toEqual([
      { path: 'plugins[0].name', message: expect.stringContaining('unknown plugin "nope"') },
      { path: 'locations[1].plugins[0].config.second', message: 'expected number > 0' },
      { path: 'locations[1].plugins[1].config.key_names', message: expect.stringContaining('expected array') },
    ]);
    expect(started).toBe(false);
  });

  it('refuses a plugin listed twice in one list, and a shared dict a plugin needs but the config lacks', async () => {
    const err = await startError({ locations: [{ match: '/', plugins: [{ name: 'cors' }, { name: 'cors' }, { name: 'prometheus' }], content }] });
    expect(err.issues).toEqual([{ path: 'locations[0].plugins[1].name', message: 'plugin "cors" is configured twice in this list' }]);
    const err2 = await startError({ locations: [{ match: '/', plugins: [{ name: 'prometheus' }], content }] });
    expect(err2.issues).toEqual([{ path: 'locations[0].plugins[0].config.dict', message: 'shared dict "prometheus_metrics" is not declared (add it to sharedDicts)' }]);
  });

  it('definePlugin refuses bad definitions; a TS plugin may not take a built-in name', async () => {
    expect(() => definePlugin({ name: 'bad name', priority: 1 })).toThrow(/bad name/);
    expect(() => definePlugin({ name: 'p', priority: Number.NaN })).toThrow(/priority/);
    const err = await startError({ locations: [] }, { plugins: [definePlugin({ name: 'cors', priority: 1 })] }).catch((e: Error) => e);
    expect(err.message).toBe('plugin "cors" is a built-in plugin; give yours another name');
  });
});

const SCHEMA = `
return {
  name = "checked",
  fields = { { config = { type = "record", fields = {
    { mode = { type = "string", one_of = { "fast", "safe" }, default = "safe" } },
    { port = { type = "integer", between = { 1, 65535 } } },
    { ratio = { type = "number", gt = 0 } },
    { code = { type = "string", match = "^%u%u%d$" } },
    { name = { type = "string", required = true } },
    { flag = { type = "boolean", default = false } },
    { tags = { type = "array", elements = { type = "string" }, default = {} } },
    { limits = { type = "map", keys = { type = "string" }, values = { type = "integer", gt = 0 } } },
    { nested = { type = "record", required = true, fields = { { depth = { type = "integer", default = 3 } } } } },
  } } } },
}`;
const CHECKED = {
  handler: `
local cjson = require "cjson"
return { PRIORITY = 700, VERSION = "1.2.3", access = function(self, conf) ngx.ctx.conf = conf end,
  header_filter = function(self, conf) ngx.header["X-Conf"] = cjson.encode({ conf.mode, conf.flag, #conf.tags, conf.nested.depth, conf.name }) end }`,
  schema: SCHEMA,
};

describe('Lua plugins', () => {
  it('checks conf against the Kong-style schema: each constraint, named by path', async () => {
    const dir = luaPlugins({ checked: CHECKED });
    const err = await startError(
      {
        locations: [
          {
            match: '/',
            plugins: [{ name: 'checked', config: { mode: 'slow', port: 70000, ratio: 0, code: 'ab1', tags: ['x', 2], limits: { a: 0 }, nested: { depth: 1.5 }, extra: true } }],
            content,
          },
        ],
      },
      { dir },
    );
    const at = (p: string) => `locations[0].plugins[0].config${p}`;
    expect(err.issues).toEqual([
      { path: at('.mode'), message: 'expected one of: "fast", "safe"' },
      { path: at('.port'), message: 'expected a value between 1 and 65535' },
      { path: at('.ratio'), message: 'expected number > 0' },
      { path: at('.code'), message: 'does not match the pattern "^%u%u%d$"' },
      { path: at('.name'), message: 'required field missing' },
      { path: at('.tags[1]'), message: 'expected a string' },
      { path: at('.limits.a'), message: 'expected number > 0' },
      { path: at('.nested.depth'), message: 'expected an integer' },
      { path: at('.extra'), message: 'unknown field' },
    ]);
  });

  it('checks each field type: string, number, integer, boolean, array, map, record', async () => {
    const dir = luaPlugins({ checked: CHECKED });
    const err = await startError(
      { locations: [{ match: '/', plugins: [{ name: 'checked', config: { mode: 1, port: 80.5, ratio: 'x', name: true, flag: 'yes', tags: 'a', limits: ['x'], nested: 5 } }], content }] },
      { dir },
    );
    const at = (p: string) => `locations[0].plugins[0].config${p}`;
    expect(err.issues).toEqual([
      { path: at('.mode'), message: 'expected a string' },
      { path: at('.port'), message: 'expected an integer' },
      { path: at('.ratio'), message: 'expected a number' },
      { path: at('.name'), message: 'expected a string' },
      { path: at('.flag'), message: 'expected a boolean' },
      { path: at('.tags'), message: 'expected an array' },
      { path: at('.limits'), message: 'expected a map' },
      { path: at('.nested'), message: 'expected a record' },
    ]);
  });

  it('fills in defaults (nested records too) and hands conf to the methods as a Lua table', async () => {
    const dir = luaPlugins({ checked: CHECKED });
    const { engine } = await engineWith({ locations: [{ match: '/', plugins: [{ name: 'checked', config: { name: 'n', code: 'AB1' } }], content }] }, { dir });
    const res = await inject(engine, '/');
    expect(res.status).toBe(200);
    expect(JSON.parse(res.headers['x-conf'] as string)).toEqual(['safe', false, 0, 3, 'n']);
    expect(engine.describePlugins()[0]?.plugins).toEqual([{ name: 'checked', priority: 700, source: 'lua' }]);
  });

  it('names the module when a Lua plugin cannot be loaded', async () => {
    const dir = luaPlugins({ broken: { handler: 'return { PRIORITY = "high" }' }, syntax: { handler: 'return {' } });
    const err = await startError({ locations: [{ match: '/', plugins: [{ name: 'broken' }, { name: 'syntax' }, { name: 'absent' }], content }] }, { dir });
    expect(err.issues?.map((i) => i.path)).toEqual(['locations[0].plugins[0].name', 'locations[0].plugins[1].name', 'locations[0].plugins[2].name']);
    expect(err.issues?.[0]?.message).toContain('phasekit.plugins.broken.handler: PRIORITY must be a number');
    expect(err.issues?.[1]?.message).toContain("error loading module 'phasekit.plugins.syntax.handler'");
    expect(err.issues?.[2]?.message).toContain("module 'phasekit.plugins.absent.handler' not found");
  });
});

const LUA_STEP = {
  handler: `
local P = { PRIORITY = 1500, VERSION = "0.1.0" }
function P:access(conf)
  ngx.req.set_header("X-From-Lua", conf.word)
  if ngx.var.arg_lua_exit then return ngx.exit(tonumber(ngx.var.arg_lua_exit)) end
end
function P:header_filter(conf) ngx.header["X-Lua-Filter"] = conf.word end
function P:body_filter(conf)
  if ngx.arg[1] ~= "" then ngx.arg[1] = ngx.arg[1]:upper() end
end
function P:log(conf) ngx.shared.log:incr("lua", 1, 0) end
return P`,
  schema: `return { fields = { { config = { type = "record", fields = { { word = { type = "string", default = "hello" } } } } } } }`,
};

describe('a Lua plugin and a TypeScript plugin in one chain', () => {
  const ts = definePlugin({
    name: 'ts-step',
    priority: 1000,
    access: (ngx) => {
      ngx.ctx.trace = [`ts saw ${String(ngx.var.http_x_from_lua)}`];
      if (ngx.var.arg_ts_exit) return ngx.exit(Number(ngx.var.arg_ts_exit));
    },
    headerFilter: (ngx) => {
      ngx.header['X-Ts-Filter'] = 'ts';
    },
    log: (ngx) => {
      ngx.shared.log?.incr('ts', 1, 0);
    },
  });

  it('runs each phase in priority order across languages, with the phase rules of each phase', async () => {
    const dir = luaPlugins({ 'lua-step': LUA_STEP });
    const { engine } = await engineWith(
      { sharedDicts: { log: '1m' }, locations: [{ match: '/', plugins: [{ name: 'ts-step' }, { name: 'lua-step', config: { word: 'hi' } }], content }] },
      { dir, plugins: [ts] },
    );
    const res = await inject(engine, '/');
    expect(res.body).toBe('TS SAW HI\n');
    expect(res.headers['x-lua-filter']).toBe('hi');
    expect(res.headers['x-ts-filter']).toBe('ts');
    expect(engine.sharedDicts.log?.get('lua')).toBe(1);
    expect(engine.sharedDicts.log?.get('ts')).toBe(1);
  });

  it('an exit mid-chain stops the later plugins of that phase and the content; the response phases still run for all', async () => {
    const dir = luaPlugins({ 'lua-step': LUA_STEP });
    const { engine } = await engineWith(
      { sharedDicts: { log: '1m' }, locations: [{ match: '/', plugins: [{ name: 'ts-step' }, { name: 'lua-step' }], content }] },
      { dir, plugins: [ts] },
    );
    // The Lua plugin (first) exits: the TS plugin's access never runs.
    const lua = await inject(engine, '/?lua_exit=403');
    expect(lua.status).toBe(403);
    expect(lua.headers['x-ts-filter']).toBe('ts');
    expect(lua.headers['x-lua-filter']).toBe('hello');
    // The TS plugin (second) exits: content does not run.
    const t = await inject(engine, '/?ts_exit=451');
    expect(t.status).toBe(451);
    expect(t.body).not.toContain('TS SAW');
    expect(engine.sharedDicts.log?.get('ts')).toBe(2);
    expect(engine.sharedDicts.log?.get('lua')).toBe(2);
  });
});

describe('failures', () => {
  it('a throwing plugin is a 500 and the log names it; the later plugins and the content do not run', async () => {
    let later = false;
    const boom = definePlugin({ name: 'boom', priority: 10, access: () => { throw new Error('kaput'); } });
    const after = definePlugin({ name: 'after', priority: 5, access: () => void (later = true) });
    const { engine, messages } = await engineWith({ locations: [{ match: '/', plugins: [{ name: 'boom' }, { name: 'after' }], content }] }, { plugins: [boom, after] });
    const res = await inject(engine, '/');
    expect(res.status).toBe(500);
    expect(later).toBe(false);
    expect(messages().join('\n')).toContain('access handler of location "/": plugin "boom" failed in access: kaput');
  });

  it('a rejecting async plugin and a failing Lua plugin are named too', async () => {
    const dir = luaPlugins({ luaboom: { handler: 'return { PRIORITY = 1, rewrite = function(self, conf) error("lua says no") end }' } });
    const late = definePlugin({ name: 'late', priority: 10, access: async () => Promise.reject(new Error('later no')) });
    const { engine, messages } = await engineWith(
      { locations: [{ match: '/lua', plugins: [{ name: 'luaboom' }], content }, { match: '/ts', plugins: [{ name: 'late' }], content }] },
      { dir, plugins: [late] },
    );
    expect((await inject(engine, '/lua')).status).toBe(500);
    expect((await inject(engine, '/ts')).status).toBe(500);
    const log = messages().join('\n');
    expect(log).toMatch(/rewrite handler of location "\/lua": plugin "luaboom" failed in rewrite: .*handler.lua:1: lua says no/);
    expect(log).toContain('access handler of location "/ts": plugin "late" failed in access: later no');
  });

  it('a header_filter method may not wait (a header_filter failure closes the connection, as nginx); a log failure is logged and the other log methods still run', async () => {
    let logged = 0;
    const waits = definePlugin({ name: 'waits', priority: 1, headerFilter: async () => undefined });
    const badLog = definePlugin({ name: 'bad-log', priority: 20, log: () => { throw new Error('log broke'); } });
    const goodLog = definePlugin({ name: 'good-log', priority: 10, log: () => void logged++ });
    const { engine, messages } = await engineWith(
      { locations: [{ match: '/wait', plugins: [{ name: 'waits' }], content }, { match: '/log', plugins: [{ name: 'bad-log' }, { name: 'good-log' }], content }] },
      { plugins: [waits, badLog, goodLog] },
    );
    expect((await inject(engine, '/wait')).status).toBe(0);
    expect(messages().join('\n')).toContain('plugin "waits" failed in headerFilter: the headerFilter method returned a promise: headerFilter cannot wait');
    expect((await inject(engine, '/log')).status).toBe(200);
    expect(logged).toBe(1);
    expect(messages().join('\n')).toContain('log handler of location "/log" failed: plugin "bad-log" failed in log: log broke');
  });

  it('a plugin method runs with its phase API rules (ngx.sleep in header_filter, ngx.req.read_body in log are refused)', async () => {
    const dir = luaPlugins({ sleepy: { handler: 'return { PRIORITY = 1, header_filter = function() ngx.sleep(0.001) end }' } });
    const reader = definePlugin({ name: 'reader', priority: 1, log: (ngx) => ngx.req.readBody() });
    const { engine, messages } = await engineWith({ locations: [{ match: '/lua', plugins: [{ name: 'sleepy' }], content }, { match: '/ts', plugins: [{ name: 'reader' }], content }] }, { dir, plugins: [reader] });
    expect((await inject(engine, '/lua')).status).toBe(0);
    expect(messages().join('\n')).toMatch(/plugin "sleepy" failed in headerFilter: .*API disabled in the context of header_filter_by_lua/);
    expect((await inject(engine, '/ts')).status).toBe(200);
    expect(messages().join('\n')).toMatch(/plugin "reader" failed in log: .*API disabled in the context of log_by_lua/);
  });
});

describe('init_worker and timing', () => {
  it('runs init_worker of Lua and TypeScript plugins once per generation, in the init_worker phase', async () => {
    const phases: string[] = [];
    const ts = definePlugin({ name: 'iw', priority: 1, initWorker: (ngx) => void phases.push(`ts:${ngx.getPhase()}`) });
    const dir = luaPlugins({
      luaiw: { handler: 'return { PRIORITY = 1, init_worker = function(self) ngx.shared.log:set("phase", ngx.get_phase()); assert(ngx.timer.at(0, function() ngx.shared.log:set("timer", true) end)) end }' },
    });
    const { engine } = await engineWith({ sharedDicts: { log: '1m' }, luaPlugins: ['luaiw'], locations: [{ match: '/', content }] }, { dir, plugins: [ts] });
    await new Promise((r) => setTimeout(r, 20));
    expect(phases).toEqual(['ts:init_worker']);
    expect(engine.sharedDicts.log?.get('phase')).toBe('init_worker');
    expect(engine.sharedDicts.log?.get('timer')).toBe(true);
    await engine.reload();
    expect(phases).toEqual(['ts:init_worker', 'ts:init_worker']);
  });

  it('a failing init_worker stops the start, naming the plugin', async () => {
    const bad = definePlugin({ name: 'bad-iw', priority: 1, initWorker: () => { throw new Error('no worker'); } });
    const logs: string[] = [];
    const err = await startError({ locations: [{ match: '/', content }] }, { plugins: [bad], logger: (e) => logs.push(e.message) });
    expect(err.message).toContain('initWorker handler failed');
    expect(logs.join('\n')).toContain('plugin "bad-iw" failed in init_worker: no worker');
  });

  it('publishes per-plugin timing on phasekit:plugin:timing', async () => {
    const seen: PluginTimingInfo[] = [];
    const listener = (m: unknown) => seen.push(m as PluginTimingInfo);
    subscribe('phasekit:plugin:timing', listener);
    try {
      const slow = definePlugin({ name: 'slow', priority: 1, access: () => new Promise((r) => setTimeout(r, 15)) });
      const { engine } = await engineWith({ locations: [{ match: '/', plugins: [{ name: 'slow' }, { name: 'a' }], content }] }, { plugins: [slow, tracer('a', 2)] });
      await inject(engine, '/');
    } finally {
      unsubscribe('phasekit:plugin:timing', listener);
    }
    expect(seen.map((s) => `${s.plugin}:${s.phase}`)).toEqual(['a:access', 'slow:access', 'a:headerFilter']);
    expect(seen[1]).toMatchObject({ location: '/', route: undefined, failed: false });
    expect(seen[1]?.ms).toBeGreaterThanOrEqual(10);
  });
});
