// runPhase from node:test: no Vitest, no globals; run with `node --import tsx --conditions source --test <this file>`.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createClock, createSharedDicts, runPhase } from '@phasekit/testing';

test('runPhase runs a Lua access handler under node:test', async () => {
  const out = await runPhase('access', { lua: 'if ngx.var.arg_key ~= "k" then return ngx.exit(401) end' }, { request: { path: '/?key=x' } });
  assert.equal(out.exitStatus, 401);
});

test('runPhase runs a TypeScript-style handler and the fake clock expires keys', async () => {
  const clock = createClock();
  const sharedDicts = createSharedDicts({ d: '64k' }, clock);
  await runPhase('log', (ngx) => void ngx.shared.d.set('k', 1, 5), { clock, sharedDicts });
  assert.equal(sharedDicts.d.get('k'), 1);
  await clock.tick(5000);
  assert.equal(sharedDicts.d.get('k'), undefined);
});

test('API-disabled errors carry OpenResty text', async () => {
  const out = await runPhase('headerFilter', (ngx) => ngx.say('x'));
  assert.equal(out.status, 500);
  assert.match(out.logs[0].message, /API disabled in the context of header_filter_by_lua\*/);
});
