// The README's gateway demo answers its curl lines (backends on free ports).
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, inject, type Engine, type EngineConfig } from 'phasekit';

const dir = fileURLToPath(new URL('../examples/gateway/', import.meta.url));
let engine: Engine;
let backends: { addresses: string[]; close: () => Promise<unknown> };

beforeAll(async () => {
  process.env.GATEWAY_BACKEND_PORTS = '0,0';
  const mod = (await import(new URL('../examples/gateway/phasekit.mjs', import.meta.url).href)) as { default: EngineConfig; backends: typeof backends };
  backends = mod.backends;
  engine = await createEngine({ ...mod.default, lua: { ...mod.default.lua, prefix: dir } }, { logger: () => undefined });
  // Let the init_worker timer (at 0) load the routes.
  await new Promise((r) => setTimeout(r, 50));
});
afterAll(async () => {
  await engine.close();
  await backends.close();
});

describe('examples/gateway', () => {
  it('refuses requests without an API key', async () => {
    const res = await inject(engine, '/api/items');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toContain('ApiKey');
  });

  it('proxies with a key, round-robin across both backends, X-Upstream naming the peer', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const res = await inject(engine, { url: `/api/items?i=${i}`, headers: { 'x-api-key': 'ops-key' } });
      expect(res.status).toBe(200);
      const body = JSON.parse(res.body) as { backend: string; path: string };
      expect(body.path).toBe(`/api/items?i=${i}`);
      expect(backends.addresses).toContain(res.headers['x-upstream']);
      seen.add(body.backend);
    }
    expect([...seen].sort()).toEqual(['backend-1', 'backend-2']);
  });

  it('rate-limits a key after 10 requests per window with 429 and Retry-After', async () => {
    const codes: number[] = [];
    let retryAfter: unknown;
    for (let i = 0; i < 12; i++) {
      const res = await inject(engine, { url: '/api/x', headers: { 'x-api-key': 'demo-key' } });
      codes.push(res.status);
      if (res.status === 429) retryAfter = res.headers['retry-after'];
    }
    expect(codes.slice(0, 10).every((c) => c === 200)).toBe(true);
    expect(codes.slice(10)).toEqual([429, 429]);
    expect(retryAfter).toBe('10');
  });

  it('serves log-phase stats at /status', async () => {
    const res = await inject(engine, '/status');
    for (const address of backends.addresses) expect(res.body).toMatch(new RegExp(`${address} requests=\\d+ avg_upstream_ms=\\d+\\.\\d`));
    expect(res.body).toMatch(/status 200 \d+/);
    expect(res.body).toMatch(/status 429 2/);
  });
});
