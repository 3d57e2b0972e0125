// The wired app (phasekit.mjs) end to end with inject(), on the same fake clock as the unit tests.

import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createClock, createEngine, inject, type Engine, type EngineConfig } from 'phasekit';

const here = fileURLToPath(new URL('.', import.meta.url));
let engine: Engine | undefined;

afterEach(async () => {
  await engine?.close();
  engine = undefined;
});

async function start() {
  const clock = createClock();
  const { default: config } = (await import(new URL('./phasekit.mjs', import.meta.url).href)) as { default: EngineConfig };
  engine = await createEngine({ ...config, lua: { prefix: here } }, { clock, logger: () => undefined });
  return { clock, engine };
}

describe('the example app', () => {
  it('limits each client to 10 requests a minute, with security headers on every answer', async () => {
    const { clock, engine } = await start();
    const codes: number[] = [];
    for (let i = 0; i < 10; i++) codes.push((await inject(engine, { url: '/api/items', remoteAddress: '10.0.0.1' })).status);
    expect(codes).toEqual(Array(10).fill(200));
    const limited = await inject(engine, { url: '/api/items', remoteAddress: '10.0.0.1' });
    expect(limited.status).toBe(429);
    expect(limited.headers['retry-after']).toBe('60');
    expect(limited.headers['x-frame-options']).toBe('DENY');
    await clock.tick(60_000);
    const ok = await inject(engine, { url: '/api/items', remoteAddress: '10.0.0.1' });
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toEqual({ path: '/api/items' });
    expect(ok.headers['strict-transport-security']).toBe('max-age=63072000; includeSubDomains');
  });
});
