// The README's gateway demo answers its curl lines (backends on free ports, its routes file copied
// so the test can edit it the way a user edits examples/gateway/routes.json).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, inject, type Engine, type EngineConfig } from 'phasekit';

const dir = fileURLToPath(new URL('../examples/gateway/', import.meta.url));
let engine: Engine;
let backends: { addresses: string[]; close: () => Promise<unknown> };
let routesFile: string;
let routes: { upstreams: { targets: string[] }[]; routes: { name: string; plugins?: { name: string; config?: Record<string, unknown> }[] }[] };

beforeAll(async () => {
  process.env.GATEWAY_BACKEND_PORTS = '0,0';
  routesFile = join(mkdtempSync(join(tmpdir(), 'phasekit-gateway-demo-')), 'routes.json');
  process.env.GATEWAY_ROUTES = routesFile;
  const mod = (await import(new URL('../examples/gateway/phasekit.mjs', import.meta.url).href)) as { default: EngineConfig; backends: typeof backends };
  backends = mod.backends;
  routes = JSON.parse(readFileSync(join(dir, 'routes.json'), 'utf8')) as typeof routes;
  for (const u of routes.upstreams) u.targets = backends.addresses;
  writeFileSync(routesFile, JSON.stringify(routes));
  engine = await createEngine({ ...mod.default, lua: { ...mod.default.lua, prefix: dir } }, { logger: () => undefined });
});
afterAll(async () => {
  await engine?.close();
  await backends?.close();
  delete process.env.GATEWAY_ROUTES;
});

const json = (body: string) => JSON.parse(body) as Record<string, unknown>;

describe('examples/gateway', () => {
  it('key-auth refuses requests without an API key (401, WWW-Authenticate: Key)', async () => {
    const res = await inject(engine, '/api/items');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Key');
    expect(json(res.body)).toEqual({ message: 'No API key found in request' });
  });

  it('proxies with a key, round robin across both backends; the Lua plugin sets the plan; a request id comes back', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const res = await inject(engine, { url: `/api/items?i=${i}`, headers: { apikey: 'ops-key' } });
      expect(res.status).toBe(200);
      const body = json(res.body);
      expect(body).toMatchObject({ path: `/api/items?i=${i}`, consumer: 'ops', plan: 'gold' });
      expect(res.headers['x-plan']).toBe('gold');
      expect(backends.addresses).toContain(res.headers['x-upstream']);
      expect(res.headers['kong-request-id']).toMatch(/#\d+$/);
      seen.add(body.backend as string);
    }
    expect([...seen].sort()).toEqual(['backend-1', 'backend-2']);
    const free = await inject(engine, '/api/items?apikey=demo-key');
    expect(json(free.body)).toMatchObject({ consumer: 'demo', plan: 'free' });
    const blocked = await inject(engine, { url: '/api/items', headers: { apikey: 'mallory-key' } });
    expect([blocked.status, json(blocked.body)]).toEqual([403, { message: 'this consumer is blocked' }]);
  });

  it('rate-limits a consumer after 10 a minute with 429, Retry-After and RateLimit-* headers', async () => {
    const codes: number[] = [];
    let last: Awaited<ReturnType<typeof inject>> | undefined;
    for (let i = 0; i < 11; i++) {
      last = await inject(engine, { url: '/api/x', headers: { apikey: 'demo-key' } });
      codes.push(last.status);
    }
    // demo-key was used once in the test above.
    expect(codes.slice(0, 9).every((c) => c === 200)).toBe(true);
    expect(codes.slice(9)).toEqual([429, 429]);
    expect(last?.headers).toMatchObject({ 'x-ratelimit-limit-minute': '10', 'x-ratelimit-remaining-minute': '0', 'ratelimit-remaining': '0' });
    expect(Number(last?.headers['retry-after'])).toBeGreaterThan(0);
    expect(json(last?.body ?? '{}')).toEqual({ message: 'API rate limit exceeded' });
  });

  it('answers the public route\'s CORS preflight, and 404 where no route matches', async () => {
    const pre = await inject(engine, { method: 'OPTIONS', url: '/public/hi', headers: { origin: 'http://localhost:3000', 'access-control-request-method': 'GET' } });
    expect([pre.status, pre.headers['access-control-allow-origin']]).toEqual([200, 'http://localhost:3000']);
    const pub = await inject(engine, '/public/hi');
    expect(json(pub.body)).toMatchObject({ path: '/hi' });
    expect((await inject(engine, '/nowhere')).status).toBe(404);
  });

  it('serves prometheus metrics by route and status, with the targets\' health', async () => {
    const res = await inject(engine, '/metrics');
    expect(res.body).toMatch(/^phasekit_http_requests_total\{location="\/",route="api",code="200"\} \d+$/m);
    expect(res.body).toMatch(/^phasekit_http_requests_total\{location="\/",route="api",code="429"\} 2$/m);
    expect(res.body).toMatch(/^phasekit_http_requests_total\{location="\/",route="",code="404"\} 1$/m);
    for (const a of backends.addresses) expect(res.body).toContain(`phasekit_upstream_target_health{upstream="backends",target="${a}",state="healthy"} 1`);
  });

  it('takes an edit of the routes file while it runs: a lower limit, then a new route', async () => {
    const api = routes.routes.find((r) => r.name === 'api');
    const rl = api?.plugins?.find((p) => p.name === 'rate-limiting');
    if (rl?.config) rl.config.minute = 1;
    routes.routes.push({ name: 'new', plugins: [], ...{ paths: ['/new/'], upstream: 'backends' } });
    writeFileSync(routesFile, JSON.stringify(routes));
    let status = 0;
    for (let i = 0; i < 150 && status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 20));
      status = (await inject(engine, '/new/thing')).status;
    }
    expect(status).toBe(200);
    expect((await inject(engine, { url: '/api/a', headers: { apikey: 'ops-key' } })).headers['x-ratelimit-limit-minute']).toBe('1');
  });
});
