// Dynamic routes: loaded by an initWorker timer into a shared dict, routed from it, changed at run
// time without a restart and without failing requests in flight.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createClock, gatewayBalancer, inject, type EngineConfig, type FakeClock } from 'phasekit';
import { echoBackend, pluginEngine, startError, writeDir, type Echo } from './helpers.js';

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

async function backends(n: number): Promise<Echo[]> {
  const out: Echo[] = [];
  for (let i = 0; i < n; i++) {
    const b = await echoBackend(`b${i + 1}`);
    closers.push(() => b.close());
    out.push(b);
  }
  return out;
}

function routesFile(routes: unknown): { dir: string; write: (r: unknown) => void } {
  const dir = writeDir({ 'routes.json': JSON.stringify(routes) });
  return { dir, write: (r) => writeFileSync(join(dir, 'routes.json'), typeof r === 'string' ? r : JSON.stringify(r)) };
}

function gatewayConfig(extra: Partial<EngineConfig> = {}): EngineConfig {
  return {
    sharedDicts: { gateway: '1m', rate_limiting_counters: '1m', prometheus_metrics: '1m' },
    dynamicRoutes: { dict: 'gateway', file: 'routes.json', interval: 1 },
    upstreams: { gateway: { balancer: gatewayBalancer } },
    locations: [
      { match: '/', dynamicRoutes: true, proxyPass: 'http://gateway', proxy: { nextUpstream: ['error', 'timeout'] } },
      { match: '= /metrics', prometheusMetrics: true },
    ],
    ...extra,
  };
}

async function gateway(routes: unknown, extra: Partial<EngineConfig> = {}, clock?: FakeClock) {
  const file = routesFile(routes);
  const r = await pluginEngine(gatewayConfig(extra), { dir: file.dir, ...(clock === undefined ? {} : { clock }) });
  closers.push(() => r.engine.close());
  return { ...r, write: file.write };
}

/** Ticks the fake clock past the reload interval and waits until the new version serves. */
async function reloadTick(clock: FakeClock, check: () => Promise<boolean>): Promise<void> {
  await clock.tick(1000);
  for (let i = 0; i < 100 && !(await check()); i++) await new Promise((r) => setTimeout(r, 5));
}

/** Waits (up to 2 s of real time: the reload reads a file) until the log has `text`, then checks it. */
async function logged(messages: () => string[], text: string): Promise<void> {
  for (let i = 0; i < 200 && !messages().join('\n').includes(text); i++) await new Promise((r) => setTimeout(r, 10));
  expect(messages().join('\n')).toContain(text);
}

const body = (b: string) => JSON.parse(b) as { backend: string; url: string; headers: Record<string, string> };

describe('dynamic routes', () => {
  it('routes by path prefix (longest first), methods and hosts; strips the prefix; 404 as Kong when nothing matches', async () => {
    const [b1, b2] = await backends(2);
    const { engine } = await gateway({
      upstreams: [{ name: 'one', targets: [b1?.address] }, { name: 'two', targets: [b2?.address] }],
      routes: [
        { name: 'api', paths: ['/api/'], upstream: 'one' },
        { name: 'api-v2', paths: ['/api/v2/'], upstream: 'two', strip_path: false },
        { name: 'posts', paths: ['/write/'], methods: ['POST'], upstream: 'two' },
        { name: 'host', hosts: ['*.example.com'], upstream: 'two' },
        { name: 'regex', paths: ['~/items/\\d+$'], upstream: 'one', strip_path: false },
      ],
    });
    const api = await inject(engine, '/api/users?x=1');
    expect([api.status, body(api.body).backend, body(api.body).url]).toEqual([200, 'b1', '/users?x=1']);
    const v2 = await inject(engine, '/api/v2/users');
    expect([body(v2.body).backend, body(v2.body).url]).toEqual(['b2', '/api/v2/users']);
    expect((await inject(engine, { method: 'POST', url: '/write/x' })).status).toBe(200);
    const get = await inject(engine, '/write/x');
    expect([get.status, JSON.parse(get.body)]).toEqual([404, { message: 'no Route matched with those values' }]);
    expect(body((await inject(engine, { url: '/anything', headers: { host: 'shop.example.com' } })).body).backend).toBe('b2');
    expect((await inject(engine, { url: '/anything', headers: { host: 'a.b.example.com' } })).status).toBe(404);
    expect(body((await inject(engine, '/items/42')).body).url).toBe('/items/42');
  });

  it('runs the route\'s plugins over the file\'s global ones, with the file\'s consumers; balances across targets', async () => {
    const [b1, b2] = await backends(2);
    const { engine } = await gateway({
      upstreams: [{ name: 'both', targets: [b1?.address, { target: b2?.address, weight: 100 }] }],
      plugins: [{ name: 'correlation-id', config: { echo_downstream: true } }],
      consumers: [{ username: 'demo', keyauth_credentials: [{ key: 'k' }] }],
      routes: [
        { name: 'private', paths: ['/private/'], upstream: 'both', plugins: [{ name: 'key-auth' }, { name: 'correlation-id', config: { header_name: 'X-Trace' , echo_downstream: true } }] },
        { name: 'public', paths: ['/'], upstream: 'both' },
      ],
    });
    const denied = await inject(engine, '/private/x');
    expect(denied.status).toBe(401);
    expect(denied.headers['x-trace']).toBeDefined();
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const res = await inject(engine, { url: '/private/x', headers: { apikey: 'k' } });
      expect(res.status).toBe(200);
      expect(body(res.body).headers['x-consumer-username']).toBe('demo');
      seen.add(body(res.body).backend);
    }
    expect([...seen].sort()).toEqual(['b1', 'b2']);
    expect((await inject(engine, '/x')).headers['kong-request-id']).toBeDefined();
    const described = engine.describePlugins().filter((d) => d.route !== undefined);
    expect(described.map((d) => [d.route, d.plugins.map((p) => p.name)])).toEqual([
      ['private', ['correlation-id', 'key-auth']],
      ['public', ['correlation-id']],
    ]);
  });

  it('takes an edited file at the next timer tick without a restart; a bad file is logged and the old routes stay', async () => {
    const [b1, b2] = await backends(2);
    const clock = createClock(Date.now());
    const { engine, write, messages } = await gateway({ upstreams: [{ name: 'u', targets: [b1?.address] }], routes: [{ name: 'r', paths: ['/'], upstream: 'u' }] }, {}, clock);
    expect(body((await inject(engine, '/')).body).backend).toBe('b1');
    write({ upstreams: [{ name: 'u', targets: [b2?.address] }], routes: [{ name: 'r', paths: ['/'], upstream: 'u' }] });
    await reloadTick(clock, async () => body((await inject(engine, '/')).body).backend === 'b2');
    expect(body((await inject(engine, '/')).body).backend).toBe('b2');
    write({ routes: [{ name: 'r', paths: ['/'], upstream: 'gone', plugins: [{ name: 'rate-limiting', config: { minute: -1 } }] }] });
    await clock.tick(1000);
    await logged(messages, 'dynamic routes from routes.json are invalid: routes[0].upstream: no upstream "gone"');
    expect(body((await inject(engine, '/')).body).backend).toBe('b2');
    write('{ not json');
    await clock.tick(1000);
    await logged(messages, 'dynamic routes from routes.json are invalid: (root): not JSON');
    write({ routes: [{ name: 'r', paths: ['/'], plugins: [{ name: 'rate-limiting', config: { minute: 0 } }] }] });
    await clock.tick(1000);
    await logged(messages, 'routes[0].plugins[0].config.minute: expected number > 0');
    expect((await inject(engine, '/')).status).toBe(200);
  });

  it('a route change under load fails no request', async () => {
    const [b1, b2] = await backends(2);
    const clock = createClock(Date.now());
    const version = (target: string | undefined, tag: string) => ({
      upstreams: [{ name: 'u', targets: [target] }],
      routes: [{ name: 'r', paths: ['/'], upstream: 'u', plugins: [{ name: 'request-transformer', config: { add: { headers: [`x-version:${tag}`] } } }] }],
    });
    const { engine, write } = await gateway(version(b1?.address, 'a'), {}, clock);
    const statuses: number[] = [];
    const versions = new Set<string>();
    let running = true;
    const worker = async () => {
      while (running) {
        const res = await inject(engine, '/load');
        statuses.push(res.status);
        if (res.status === 200) versions.add(`${body(res.body).backend}:${body(res.body).headers['x-version']}`);
      }
    };
    const workers = Array.from({ length: 16 }, worker);
    for (let i = 0; i < 6; i++) {
      write(i % 2 === 0 ? version(b2?.address, 'b') : version(b1?.address, 'a'));
      await clock.tick(1000);
      await new Promise((r) => setTimeout(r, 40));
    }
    running = false;
    await Promise.all(workers);
    expect(statuses.length).toBeGreaterThan(100);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    // Every request saw one consistent version: the route's plugin and its upstream belong together.
    expect([...versions].sort()).toEqual(['b1:a', 'b2:b']);
  });

  it('retries a failed target on the next one and reports it unhealthy at /metrics', async () => {
    const [b1] = await backends(1);
    const dead = await echoBackend('dead');
    await dead.close();
    const { engine } = await gateway({ upstreams: [{ name: 'u', targets: [dead.address, b1?.address] }], routes: [{ name: 'r', paths: ['/'], upstream: 'u' }] });
    for (let i = 0; i < 3; i++) {
      const res = await inject(engine, '/x');
      expect([res.status, body(res.body).backend]).toEqual([200, 'b1']);
    }
    const metrics = (await inject(engine, '/metrics')).body;
    expect(metrics).toContain(`phasekit_upstream_target_health{upstream="u",target="${dead.address}",state="unhealthy"} 1`);
    expect(metrics).toContain(`phasekit_upstream_target_health{upstream="u",target="${b1?.address}",state="healthy"} 1`);
  });

  it('reads a store (load) and what Lua code writes into the dict', async () => {
    const [b1, b2] = await backends(2);
    let current: unknown = { upstreams: [{ name: 'u', targets: [b1?.address] }], routes: [{ name: 'r', paths: ['/'], upstream: 'u' }] };
    const clock = createClock(Date.now());
    const { engine } = await pluginEngine(
      { ...gatewayConfig(), dynamicRoutes: { dict: 'gateway', load: async () => current, interval: 1 } },
      { clock },
    );
    closers.push(() => engine.close());
    expect(body((await inject(engine, '/')).body).backend).toBe('b1');
    current = { upstreams: [{ name: 'u', targets: [b2?.address] }], routes: [{ name: 'r', paths: ['/'], upstream: 'u' }] };
    await reloadTick(clock, async () => body((await inject(engine, '/')).body).backend === 'b2');
    expect(body((await inject(engine, '/')).body).backend).toBe('b2');

    // No file, no store: a Lua timer of the config's own writes the routes and bumps the version.
    const routes = JSON.stringify({ upstreams: [{ name: 'u', targets: [b2?.address] }], routes: [{ name: 'lua', paths: ['/'], upstream: 'u' }] });
    const lua = await pluginEngine({
      ...gatewayConfig(),
      dynamicRoutes: { dict: 'gateway' },
      initWorker: { lua: `assert(ngx.timer.at(0, function() local d = ngx.shared.gateway; d:set("routes", ${JSON.stringify(routes)}); d:incr("routes:version", 1, 0) end))` },
    });
    closers.push(() => lua.engine.close());
    expect((await inject(lua.engine, '/')).status).toBe(404);
    await new Promise((r) => setTimeout(r, 30));
    expect(body((await inject(lua.engine, '/')).body).backend).toBe('b2');
  });

  it('an invalid routes file at start stops the start; dynamicRoutes needs its dict', async () => {
    const file = routesFile({ routes: [{ name: 'r' }] });
    const logs: string[] = [];
    const err = await startError(gatewayConfig(), { dir: file.dir, logger: (e) => logs.push(e.message) });
    expect(err.message).toContain('initWorker handler failed');
    expect(logs.join('\n')).toContain('dynamic routes from routes.json are invalid: routes[0]: a route needs paths, methods or hosts');
    const err2 = await startError({ ...gatewayConfig(), sharedDicts: {} }, { dir: file.dir });
    expect(err2.issues).toContainEqual({ path: 'dynamicRoutes.dict', message: 'shared dict "gateway" is not declared (add it to sharedDicts)' });
    const err3 = await startError({ locations: [{ match: '/', dynamicRoutes: true }] });
    expect(err3.issues).toEqual([{ path: 'locations[0].dynamicRoutes', message: 'the config has no top-level dynamicRoutes' }]);
  });
});
