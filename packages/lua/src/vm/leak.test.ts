// Regression tests for per-call leaks (wasmoon's helpers leak stack slots and table entries per call).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LuaVm, drive } from './index.js';
import type { LuaRef, LuaVmStats } from './index.js';

const N = 100_000;

describe('no per-call leaks', () => {
  let vm: LuaVm;
  beforeAll(async () => {
    vm = await LuaVm.create();
    vm.defineFunction(
      'echo',
      (c) => {
        c.pushBytes(c.checkBytes(1));
        c.pushNumber(c.checkNumber(2) + 1);
        return 2;
      },
      vm.sandbox,
    );
    vm.defineFunction('now', (c) => c.yield(Promise.resolve(c.value(1))), vm.sandbox);
  });
  afterAll(() => vm.close());

  /** Runs `body` N times after a warm-up, then checks the VM came back to where it was. */
  async function bounded(body: (i: number) => void | Promise<void>, n = N): Promise<void> {
    for (let i = 0; i < Math.min(1000, n); i++) await body(i);
    vm.collectGarbage();
    const before: LuaVmStats = vm.stats();
    for (let i = 0; i < n; i++) await body(i);
    vm.collectGarbage();
    const after = vm.stats();
    expect(after.stackTop).toBe(0);
    expect(after.callStackTop).toBe(0);
    expect(after.registryEntries).toBeLessThanOrEqual(before.registryEntries + 4);
    expect(after.luaBytes).toBeLessThan(before.luaBytes + 64 * 1024);
    expect(after.wasmHeapBytes).toBe(before.wasmHeapBytes);
  }

  it(`compile-once chunk: ${N} spawn + resume with args, results and a JS call`, async () => {
    const chunk = vm.compile('local s, n = ... local a, b = echo(s, n) return #a, b', 'leak.lua');
    await bounded((i) => {
      const r = vm.spawn(chunk, { args: ['payload\0' + i, i] }).resume();
      if (r.status !== 'done' || r.values[1] !== i + 1) throw new Error(JSON.stringify(r));
    });
  });

  it(`${N} Lua -> JS calls inside one run`, async () => {
    const chunk = vm.compile('local n = 0 for i = 1, ... do local s, m = echo("x", i) n = n + m end return n', 'calls.lua');
    await bounded(() => {
      const r = vm.spawn(chunk, { args: [N] }).resume();
      if (r.status !== 'done') throw new Error(r.status);
    }, 3);
  });

  it(`${N / 5} runs that each await a JS promise`, async () => {
    const chunk = vm.compile('local v = now(...) return v', 'await.lua');
    await bounded(async (i) => {
      const r = await drive(vm.spawn(chunk, { args: [i] }));
      if (r.status !== 'done' || r.values[0] !== i) throw new Error(JSON.stringify(r));
    }, N / 5);
  });

  it(`${N / 5} runs that fail with a traceback`, async () => {
    const chunk = vm.compile('local t = nil\nreturn t.x', 'fail.lua');
    await bounded((i) => {
      const r = vm.spawn(chunk, { args: [i] }).resume();
      if (r.status !== 'error') throw new Error(r.status);
    }, N / 5);
  });

  it(`vm.call: ${N} calls of a compile-once chunk with args, results and a JS call`, async () => {
    const chunk = vm.compile('local s, n = ... local a, b = echo(s, n) return #a, b, {}', 'leak.lua');
    await bounded((i) => {
      const r = vm.call(chunk, { args: ['payload\0' + i, i] });
      if (r.status !== 'done' || r.values[1] !== i + 1) throw new Error(JSON.stringify(r));
    });
  });

  it(`vm.call: ${N} calls of a function ref, env 'sandbox' and a shared env`, async () => {
    const [fn] = vm.run('return function(a) return a + 1 end', 'fn');
    const chunk = vm.compile('n = (n or 0) + 1 return n', 'env.lua');
    const env = vm.newEnv();
    await bounded((i) => {
      const a = vm.call(fn as LuaRef, { args: [i] });
      const b = vm.call(chunk, { env: i % 2 === 0 ? env : 'sandbox' });
      if (a.status !== 'done' || b.status !== 'done') throw new Error('failed');
    });
    env.release();
    (fn as LuaRef).release();
  });

  it(`vm.call: ${N / 5} failing calls (Lua errors, JS errors, table errors, refused yields)`, async () => {
    const chunks = [
      vm.compile('local t = nil\nreturn t.x', 'fail.lua'),
      vm.compile('echo()', 'arg.lua'),
      vm.compile('error({ code = ... })', 'table.lua'),
      vm.compile('now(1)', 'yield.lua'),
    ];
    await bounded((i) => {
      const r = vm.call(chunks[i % chunks.length]!, { args: [i] });
      if (r.status !== 'error' || !r.traceback.includes('stack traceback:')) throw new Error(JSON.stringify(r));
    }, N / 5);
  });

  it('vm.call: calls stopped by the CPU limit', async () => {
    const spin = vm.compile('while true do pcall(function() while true do end end) end', 'spin.lua');
    await bounded(() => {
      const r = vm.call(spin, { maxRunMs: 1 });
      if (r.status !== 'error' || !r.killed) throw new Error(JSON.stringify(r));
    }, 20);
  });

  it(`${N / 5} threads closed while waiting`, async () => {
    const chunk = vm.compile('local v = now(...) return v', 'close.lua');
    await bounded((i) => {
      const th = vm.spawn(chunk, { args: [i] });
      th.resume();
      th.close();
    }, N / 5);
  });
});
