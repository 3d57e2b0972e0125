// Unit tests for lua/rate-limit.lua: the access phase alone, a shared dict, and a fake clock.

import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createClock, createSharedDicts, runPhase, type RunPhaseOptions } from 'phasekit';

const rateLimit = { luaFile: 'lua/rate-limit.lua' };
const lua = { prefix: fileURLToPath(new URL('.', import.meta.url)) };

/** A fresh limiter state: its own clock and `limits` dict, 3 requests per 10 seconds. */
function setup() {
  const clock = createClock();
  const sharedDicts = createSharedDicts({ limits: '1m' }, clock);
  const from = (remoteAddr: string): RunPhaseOptions => ({
    clock,
    sharedDicts,
    lua,
    vars: { rate_limit: '3', rate_window: '10' },
    request: { path: '/api/items', remoteAddr },
  });
  return { clock, sharedDicts, from };
}

describe('rate-limit.lua', () => {
  it('lets the first requests through, then answers 429 with Retry-After', async () => {
    const { from } = setup();
    for (let i = 0; i < 3; i++) {
      const out = await runPhase('access', rateLimit, from('10.0.0.1'));
      expect(out.exited).toBe(false);
    }
    const limited = await runPhase('access', rateLimit, from('10.0.0.1'));
    expect(limited.exitStatus).toBe(429);
    expect(limited.headers['retry-after']).toBe('10');
  });

  it('counts each client on its own', async () => {
    const { from, sharedDicts } = setup();
    for (let i = 0; i < 4; i++) await runPhase('access', rateLimit, from('10.0.0.1'));
    expect((await runPhase('access', rateLimit, from('10.0.0.2'))).exited).toBe(false);
    expect(sharedDicts.limits?.get('rate:10.0.0.1')).toBe(4);
    expect(sharedDicts.limits?.get('rate:10.0.0.2')).toBe(1);
  });

  it('tells how long is left of the window, and resets once the window has passed', async () => {
    const { clock, from } = setup();
    for (let i = 0; i < 3; i++) await runPhase('access', rateLimit, from('10.0.0.1'));
    await clock.tick(6_500);
    const limited = await runPhase('access', rateLimit, from('10.0.0.1'));
    expect(limited.exitStatus).toBe(429);
    expect(limited.headers['retry-after']).toBe('4');
    await clock.tick(3_500);
    const again = await runPhase('access', rateLimit, from('10.0.0.1'));
    expect(again.exited).toBe(false);
  });

  it('fails open, with an error in the log, when the dict cannot hold the counter', async () => {
    const clock = createClock();
    const out = await runPhase('access', rateLimit, { clock, lua, sharedDicts: { limits: 1 } });
    expect(out.exited).toBe(false);
    expect(out.logs).toEqual([expect.objectContaining({ level: 'error', message: expect.stringContaining('rate limit: no memory') })]);
  });

  it('uses its defaults (10 per 60 s) when the location declares no limits', async () => {
    const clock = createClock();
    const sharedDicts = createSharedDicts({ limits: '1m' }, clock);
    const codes: (number | undefined)[] = [];
    for (let i = 0; i < 11; i++) codes.push((await runPhase('access', rateLimit, { clock, lua, sharedDicts })).exitStatus);
    expect(codes.slice(0, 10).every((c) => c === undefined)).toBe(true);
    expect(codes[10]).toBe(429);
  });
});
