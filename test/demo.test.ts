// The README demo's config answers what examples/demo/urls.mjs tells people to try.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createEngine, type EngineConfig } from 'phasekit';
import { inject } from '@phasekit/testing';

async function demoEngine(which: 'lua' | 'typescript') {
  if (which === 'typescript') {
    const { default: config } = (await import(new URL('../examples/typescript/phasekit.mjs', import.meta.url).href)) as { default: EngineConfig };
    return createEngine(config, { logger: () => undefined });
  }
  const dir = fileURLToPath(new URL('../examples/demo/', import.meta.url));
  const config = JSON.parse(readFileSync(`${dir}phasekit.json`, 'utf8')) as EngineConfig;
  return createEngine({ ...config, lua: { ...config.lua, prefix: dir } }, { logger: () => undefined });
}

describe.each(['lua', 'typescript'] as const)('the %s demo', (which) => {
  it('serves hello, the API with access rules and rate limit, redirect and status', async () => {
    const engine = await demoEngine(which);
    expect((await inject(engine, '/hello?name=you')).body).toMatch(/^hello from (Lua|phasekit), you\n$/);
    expect((await inject(engine, '/api/items')).status).toBe(401);
    const ok = await inject(engine, '/api/items?key=demo&shout=1');
    expect(ok.status).toBe(200);
    expect(ok.headers['x-phases']).toContain('header_filter');
    expect(JSON.parse(ok.body.toLowerCase())).toMatchObject({ path: '/api/items', method: 'get', args: { key: 'demo', shout: '1' } });
    const codes: number[] = [];
    for (let i = 0; i < 5; i++) codes.push((await inject(engine, '/api/x?key=demo')).status);
    expect(codes).toEqual([200, 200, 200, 200, 429]);
    const old = await inject(engine, '/old');
    expect(old.status).toBe(301);
    expect(old.headers.location).toBe('/hello?name=redirected');
    const status = await inject(engine, '/status');
    expect(status.body).toMatch(/status:200 5\nstatus:401 1\nstatus:429 1\n$/);
    await engine.close();
  });
});
