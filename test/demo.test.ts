// The README demo's config answers what examples/demo/urls.mjs tells people to try.
import { describe, expect, it } from 'vitest';
import { createEngine, type EngineConfig } from '@phasekit/core';
import { inject } from '@phasekit/testing';

describe('examples/demo', () => {
  it('serves hello, the API with access rules and rate limit, redirect and status', async () => {
    const { default: demo } = (await import(new URL('../examples/demo/phasekit.mjs', import.meta.url).href)) as { default: EngineConfig };
    const engine = await createEngine(demo, { logger: () => undefined });
    expect((await inject(engine, '/hello?name=you')).body).toBe('hello from phasekit, you\n');
    expect((await inject(engine, '/api/items')).status).toBe(401);
    const ok = await inject(engine, '/api/items?key=demo&shout=1');
    expect(ok.status).toBe(200);
    expect(ok.headers['x-phases']).toContain('header_filter');
    expect(ok.body).toContain('"PATH":"/API/ITEMS"');
    const codes: number[] = [];
    for (let i = 0; i < 5; i++) codes.push((await inject(engine, '/api/x?key=demo')).status);
    expect(codes).toEqual([200, 200, 200, 200, 429]);
    const old = await inject(engine, '/old');
    expect(old.status).toBe(301);
    expect(old.headers.location).toBe('/hello?name=redirected');
    const status = await inject(engine, '/status');
    expect(status.body).toMatch(/status:200 5\nstatus:401 1\nstatus:429 1\n$/);
  });
});
