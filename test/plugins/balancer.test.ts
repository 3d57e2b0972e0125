// Plugins' balancer methods (TypeScript and Lua) on a static location: they run in the balancer
// phase of an upstream whose balancer is gatewayBalancer and pick the peer.
import { afterEach, describe, expect, it } from 'vitest';
import { definePlugin, gatewayBalancer, inject, type EngineConfig } from 'phasekit';
import { echoBackend, luaPlugins, pluginEngine, type Echo } from './helpers.js';

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

async function backends(): Promise<[Echo, Echo]> {
  const a = await echoBackend('a');
  const b = await echoBackend('b');
  closers.push(() => a.close(), () => b.close());
  return [a, b];
}

const hostPort = (address: string): [string, number] => {
  const [host, port] = address.split(':') as [string, string];
  return [host, Number(port)];
};

describe('balancer methods', () => {
  it('a TypeScript and a Lua plugin pick the peer in the balancer phase; without a pick the upstream\'s servers serve', async () => {
    const [a, b] = await backends();
    const tries: string[] = [];
    const ts = definePlugin({
      name: 'ts-pick',
      priority: 20,
      balancer: (ngx) => {
        tries.push(`ts:${ngx.getPhase()}`);
        if (ngx.var.http_x_to === 'b') ngx.balancer.setCurrentPeer(...hostPort(b.address));
      },
    });
    const dir = luaPlugins({
      'lua-pick': {
        handler: `
local P = { PRIORITY = 10, VERSION = "1.0.0" }
function P:balancer(conf)
  ngx.ctx.lua_phase = ngx.get_phase()
  if ngx.var.http_x_to == "lua" then
    assert(require("ngx.balancer").set_current_peer(conf.host, conf.port))
  end
end
return P`,
        schema: `return { fields = { { config = { type = "record", fields = { { host = { type = "string", required = true } }, { port = { type = "integer", required = true } } } } } } }`,
      },
    });
    const [host, port] = hostPort(b.address);
    const config: EngineConfig = {
      upstreams: { gateway: { balancer: gatewayBalancer, servers: [a.address] } },
      locations: [
        {
          match: '/',
          plugins: [{ name: 'ts-pick' }, { name: 'lua-pick', config: { host, port } }],
          proxyPass: 'http://gateway',
          headerFilter: { lua: 'ngx.header["X-Lua-Phase"] = ngx.ctx.lua_phase' },
        },
      ],
    };
    const { engine } = await pluginEngine(config, { dir, plugins: [ts] });
    closers.push(() => engine.close());
    const plain = await inject(engine, '/x');
    expect([plain.status, plain.headers['x-backend'], plain.headers['x-lua-phase']]).toEqual([200, 'a', 'balancer']);
    expect((await inject(engine, { url: '/x', headers: { 'X-To': 'b' } })).headers['x-backend']).toBe('b');
    expect((await inject(engine, { url: '/x', headers: { 'X-To': 'lua' } })).headers['x-backend']).toBe('b');
    expect(tries).toEqual(['ts:balancer', 'ts:balancer', 'ts:balancer']);
  });
});
