// Config errors for the HAProxy keys: unknown fetch, converter, action or service names, with their paths.
import { describe, expect, it } from 'vitest';
import { createEngine as createCoreEngine } from '@phasekit/core';
import { createEngine, usesLua, type EngineConfig } from 'phasekit';
import { luaDir } from './helpers.js';

const LUA = luaDir({
  'reg.lua': `
core.register_action("auth", { "http-req" }, function(txn) end)
core.register_action("tag", { "http-req" }, function(txn, a, b) end, 2)
core.register_fetches("geo", function(txn) return "fr" end)
core.register_service("hello", "http", function(applet) end)`,
});

async function issues(config: Omit<EngineConfig, 'luaLoad' | 'lua'>) {
  try {
    const engine = await createEngine({ ...config, lua: { prefix: LUA }, luaLoad: ['reg.lua'] }, { logger: () => undefined });
    await engine.close();
  } catch (err) {
    expect((err as { code?: string }).code).toBe('PHASEKIT_ERR_CONFIG');
    return (err as { issues: { path: string; message: string }[] }).issues;
  }
  throw new Error('the config was accepted');
}

describe('bad names → PHASEKIT_ERR_CONFIG naming the path', () => {
  it('unknown sample fetch and converter, in setHeaders and vars (lua.* names of luaLoad files resolve)', async () => {
    expect(
      await issues({
        locations: [
          { match: '/', setHeaders: { 'X-Ok': '%[lua.geo,upper]', 'X-A': '%[nope]' }, vars: { v: '%[req.hdr(host),lowr]' } },
          { match: '/b', vars: { w: 'x %[lua.missing] y' } },
        ],
      }),
    ).toEqual([
      { path: 'locations[0].vars.v', message: 'unknown converter "lowr" in "%[req.hdr(host),lowr]"' },
      { path: 'locations[0].setHeaders.X-A', message: 'unknown sample fetch "nope" in "%[nope]"' },
      { path: 'locations[1].vars.w', message: 'unknown sample fetch "lua.missing" in "%[lua.missing]"' },
    ]);
  });

  it('unknown action, action not registered for that list, wrong number of arguments; unknown service', async () => {
    expect(
      await issues({
        locations: [
          { match: '/', actions: { 'http-req': ['lua.auth', 'lua.nope', 'lua.tag(1)'], 'http-res': ['lua.auth'] } },
          { match: '/s', service: 'lua.bye' },
        ],
      }),
    ).toEqual([
      { path: 'locations[0].actions.http-req[1]', message: 'unknown action "lua.nope"' },
      { path: 'locations[0].actions.http-req[2]', message: 'action "lua.tag" expects 2 argument(s), got 1' },
      { path: 'locations[0].actions.http-res[0]', message: 'action "lua.auth" is not registered for http-res' },
      { path: 'locations[1].service', message: 'unknown service "lua.bye"' },
    ]);
  });

  it('expression syntax and arity of built-ins', async () => {
    expect(await issues({ locations: [{ match: '/', setHeaders: { 'X-A': '%[req.hdr(host', 'X-B': '%[req.hdr]', 'X-C': '%[method,]' } }] })).toEqual([
      { path: 'locations[0].setHeaders.X-A', message: '"req.hdr(" is not closed' },
      { path: 'locations[0].setHeaders.X-B', message: 'sample fetch "req.hdr" takes 1 to 2 arguments, got 0' },
      { path: 'locations[0].setHeaders.X-C', message: 'a name is expected at "]"' },
    ]);
  });

  it('schema: action references, service names, service with content, header names, luaLoad entries', async () => {
    const bad = [
      { match: '/', actions: { 'http-req': ['auth'] } },
      { match: '/b', service: 'hello', content: { lua: '' } },
      { match: '/c', service: 'lua.hello', proxyPass: 'http://127.0.0.1:1' },
      { match: '/d', setHeaders: { 'Bad Header': 'x' } },
    ];
    await expect(createEngine({ luaLoad: [''], locations: bad } as EngineConfig)).rejects.toMatchObject({
      code: 'PHASEKIT_ERR_CONFIG',
      issues: expect.arrayContaining([
        expect.objectContaining({ path: 'luaLoad[0]' }),
        expect.objectContaining({ path: 'locations[0].actions.http-req[0]', message: 'an action is "lua.name" or "lua.name(arg1,arg2)"' }),
        expect.objectContaining({ path: 'locations[1].service', message: 'a service is "lua.name"' }),
        expect.objectContaining({ path: 'locations[2].service', message: 'a location has one of content, proxyPass, service or prometheusMetrics, not proxyPass and service' }),
        expect.objectContaining({ path: 'locations[3].setHeaders.Bad Header' }),
      ]) as unknown,
    });
  });

  it('luaLoad needs the Lua runtime: usesLua sees it; an engine without runtimes says which key', async () => {
    expect(usesLua({ luaLoad: ['a.lua'], locations: [] })).toBe(true);
    expect(usesLua({ locations: [{ match: '/', service: 'lua.x', actions: { 'http-req': ['lua.y'] } }] })).toBe(false);
    await expect(createEngine({ luaLoad: ['a.lua'], locations: [] }, { runtimes: [] })).rejects.toMatchObject({ code: 'PHASEKIT_ERR_NO_RUNTIME', message: expect.stringContaining('luaLoad') as string });
  });

  it('core alone knows no HAProxy keys: they are config errors without the extension', async () => {
    await expect(createCoreEngine({ luaLoad: ['a.lua'], locations: [] } as never)).rejects.toMatchObject({
      code: 'PHASEKIT_ERR_CONFIG',
      issues: [expect.objectContaining({ message: expect.stringContaining('luaLoad') as string })],
    });
  });
});
