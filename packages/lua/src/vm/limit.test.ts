// Tests of the CPU-time kill (count hook) and the memory cap; the VM must stay healthy afterwards.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LuaRuntimeError, LuaVm, drive } from './index.js';
import type { LuaFailure } from './index.js';

const LIMIT = 30;

describe('CPU time limit', () => {
  let vm: LuaVm;
  beforeAll(async () => {
    vm = await LuaVm.create({ maxRunMs: LIMIT });
    vm.defineFunction('now', (c) => c.yield(Promise.resolve(c.value(1))), vm.sandbox);
  });
  afterAll(() => vm.close());

  const runaway = async (src: string): Promise<LuaFailure> => {
    const r = await drive(vm.spawn(vm.compile(src, 'spin.lua')));
    if (r.status !== 'error') throw new Error(`expected a kill, got ${JSON.stringify(r)}`);
    return r;
  };

  it.each([
    ['a bare loop', 'while true do end'],
    ['a loop swallowing errors with pcall', 'while true do pcall(function() while true do end end) end'],
    ['a loop swallowing errors with xpcall', 'while true do xpcall(function() while true do end end, function(e) return e end) end'],
    ['a spinning coroutine re-resumed forever', 'local co = coroutine.wrap(function() while true do pcall(function() while true do end end) end end) while true do pcall(co) end'],
    ['fresh spinning coroutines in a loop', 'while true do coroutine.resume(coroutine.create(function() while true do end end)) end'],
    ['a pcall loop where Lua cannot yield (sort comparator)', 'table.sort({3, 2, 1}, function(a, b) while true do pcall(function() while true do end end) end end)'],
    ['a pcall loop in a gsub callback', 'string.gsub("abc", "%w", function() while true do pcall(string.rep, "x", -1) end end)'],
    ['a loop swallowing errors in a load() reader', 'while true do pcall(load, function() while true do end end) end'],
  ])('stops %s', async (_name, src) => {
    const r = await runaway(src);
    expect(r.killed).toBe(true);
    expect(r.message).toBe(`Lua CPU time limit exceeded (maxRunMs=${LIMIT})`);
    expect(r.traceback).toContain('spin.lua:1');
  });

  it('counts CPU time over all resumes of a thread', async () => {
    // Each resume spins briefly, then yields; only the sum over resumes can reach the limit.
    const r = await runaway('local n = 0 while true do for i = 1, 20000 do n = n + i end now(n) end');
    expect(r.killed).toBe(true);
  });

  it("gives each resume maxRunMs afresh with limitScope 'resume'", async () => {
    // 12 bursts of ~15 ms each under a 150 ms limit: a tenth of it per resume (room for a loaded
    // machine), beyond it in total.
    const chunk = vm.compile('local t0 = os.clock() local n = 0 for round = 1, 12 do while os.clock() - t0 < round * 0.015 do n = n + 1 end now(round) end return "finished"', 'bursts.lua');
    expect(await drive(vm.spawn(chunk, { limitScope: 'resume', maxRunMs: 150 }))).toEqual({ status: 'done', values: ['finished'] });
    const r = await drive(vm.spawn(chunk, { maxRunMs: 150 }));
    expect(r.status === 'error' && r.killed).toBe(true);
  });

  it('honours a per-thread maxRunMs of 0 (unlimited)', async () => {
    const chunk = vm.compile('local n = 0 for i = 1, 2e7 do n = n + 1 end return n', 'long.lua');
    expect(await drive(vm.spawn(chunk, { maxRunMs: 0 }))).toEqual({ status: 'done', values: [2e7] });
  });

  it('stops run() code with a LuaRuntimeError coded PHASEKIT_ERR_LUA_CPU_LIMIT', () => {
    let err: unknown;
    try {
      vm.run('while true do end', 'boot.lua');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LuaRuntimeError);
    expect((err as LuaRuntimeError).code).toBe('PHASEKIT_ERR_LUA_CPU_LIMIT');
  });

  it('leaves the VM healthy: 100 normal runs (with pcall and coroutines) succeed after kills', async () => {
    await runaway('while true do pcall(function() while true do end end) end');
    await runaway('table.sort({3, 2, 1}, function(a, b) while true do pcall(error, "x") end end)');
    const chunk = vm.compile(
      'local i = ... local ok, e = pcall(error, "e" .. i) local co = coroutine.wrap(function() coroutine.yield(now(i)) end) return ok, e, co()',
      'ok.lua',
    );
    for (let i = 0; i < 100; i++) {
      expect(await drive(vm.spawn(chunk, { args: [i] }))).toEqual({ status: 'done', values: [false, `e${i}`, i] });
    }
    expect(vm.stats().stackTop).toBe(0);
  });

  it('keeps a waiting thread intact while another one is killed', async () => {
    let release!: (v: string) => void;
    vm.defineFunction('park', (c) => c.yield(new Promise<string>((r) => (release = r))), vm.sandbox);
    const parked = drive(vm.spawn(vm.compile('local v = park() local ok = pcall(error, "x") return v, ok', 'park.lua')));
    await runaway('while true do end');
    release('back');
    expect(await parked).toEqual({ status: 'done', values: ['back', false] });
  });
});

describe('no CPU limit', () => {
  it('runs long loops to the end when maxRunMs is 0', async () => {
    const vm = await LuaVm.create({ maxRunMs: 0 });
    expect(vm.run('local n = 0 for i = 1, 3e7 do n = n + 1 end return n', 'long.lua')).toEqual([3e7]);
    vm.close();
  });
});

describe('memory cap', () => {
  const MAX = 8 * 1024 * 1024;
  let vm: LuaVm;
  beforeAll(async () => {
    vm = await LuaVm.create({ memoryMaxBytes: MAX, maxRunMs: 5000 });
  });
  afterAll(() => vm.close());

  it('fails allocations past memoryMaxBytes with "not enough memory", catchable by pcall', async () => {
    const r = await drive(vm.spawn(vm.compile('local t = {} for i = 1, 1e8 do t[i] = i end', 'mem.lua')));
    expect(r.status === 'error' && r.message).toBe('not enough memory');
    const c = await drive(vm.spawn(vm.compile('local ok, e = pcall(function() return string.rep("x", 64 * 1024 * 1024) end) return ok, e', 'mem.lua')));
    expect(c).toEqual({ status: 'done', values: [false, 'not enough memory'] });
    expect(vm.stats().allocatedBytes).toBeLessThanOrEqual(MAX);
  });

  it('keeps working after running out', async () => {
    vm.collectGarbage();
    const chunk = vm.compile('local t = {} for i = 1, 1000 do t[i] = ("x"):rep(100) end return #t', 'ok.lua');
    for (let i = 0; i < 20; i++) expect(await drive(vm.spawn(chunk))).toEqual({ status: 'done', values: [1000] });
    const used = vm.stats().allocatedBytes ?? Infinity;
    expect(used).toBeGreaterThan(0);
    expect(used).toBeLessThan(MAX);
  });
});
