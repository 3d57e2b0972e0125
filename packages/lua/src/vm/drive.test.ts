// Tests of coroutines waiting on JS: call.yield, resolve/reject, drive(), interleaving of many threads.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LuaVm, LuaVmError, drive } from './index.js';
import type { LuaRef, LuaThread, LuaValue } from './index.js';

/** A promise settled by hand, so tests decide the order in which waits finish. */
function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('coroutines waiting on JS', () => {
  let vm: LuaVm;
  /** Waits queued by the Lua function wait(n); each resolves to n * 10 when released. */
  let queue: Array<{ n: number; release: () => void; fail: (e: unknown) => void }>;

  beforeAll(async () => {
    vm = await LuaVm.create();
    queue = [];
    vm.defineFunction(
      'wait',
      (c) => {
        const n = c.number(1) ?? 0;
        const d = deferred<number>();
        queue.push({ n, release: () => d.resolve(n * 10), fail: (e) => d.reject(e) });
        return c.yield(d.promise);
      },
      vm.sandbox,
    );
    vm.defineFunction('now', (c) => c.yield(Promise.resolve(c.value(1))), vm.sandbox);
    vm.defineFunction('fails', (c) => c.yield(Promise.reject(new Error(c.string(1) ?? 'no'))), vm.sandbox);
  });
  afterAll(() => vm.close());

  const run = async (src: string, args: LuaValue[] = []) => drive(vm.spawn(vm.compile(src, 'w.lua'), { args }));

  it('resumes the waiting call with the resolved value', async () => {
    expect(await run('local v = now(21) return v * 2, now(nil), now("s")')).toEqual({ status: 'done', values: [42, null, 's'] });
  });

  it('turns a rejection into a Lua error at the call site that pcall catches', async () => {
    expect(await run('local ok, e = pcall(function()\n local x = fails("refused") return x\nend) return ok, e')).toEqual({
      status: 'done',
      values: [false, 'w.lua:2: refused'],
    });
    const r = await run('local a = 1\nlocal x = fails("refused")\nreturn x');
    expect(r.status === 'error' && r.message).toBe('w.lua:2: refused');
  });

  it('lets onResume push several results, or raise', async () => {
    vm.defineFunction(
      'pair',
      (c) =>
        c.yield(Promise.resolve({ a: 1, b: 'two' }), (call, v) => {
          const o = v as { a: number; b: string };
          call.pushNumber(o.a);
          call.pushString(o.b);
          return 2;
        }),
      vm.sandbox,
    );
    vm.defineFunction(
      'nilerr',
      (c) =>
        c.yield(Promise.reject(new Error('timeout')).catch((e: Error) => ({ err: e.message })), (call, v) => {
          call.pushNil();
          call.pushString((v as { err: string }).err);
          return 2;
        }),
      vm.sandbox,
    );
    expect(await run('local a, b = pair() local c, d = nilerr() return a, b, c, d')).toEqual({ status: 'done', values: [1, 'two', null, 'timeout'] });
  });

  it('reports Lua-side yields with their values and takes resume values back', () => {
    const th = vm.spawn(vm.compile('local a = coroutine.yield(1, "x") return a + 1', 'y.lua'));
    expect(th.resume()).toEqual({ status: 'yield', fromJs: false, value: undefined, values: [1, 'x'] });
    expect(th.status).toBe('suspended');
    expect(th.resume(41)).toEqual({ status: 'done', values: [42] });
    expect(th.status).toBe('done');
  });

  it('drive() resumes Lua-side top-level yields on the next turn', async () => {
    expect(await run('local n = 0 for i = 1, 3 do coroutine.yield() n = n + i end return n')).toEqual({ status: 'done', values: [6] });
  });

  it('lets JS waits happen inside user coroutines (wrap and resume, nested)', async () => {
    const src = `
      local co = coroutine.wrap(function(x)
        local v = now(x)
        coroutine.yield(v + 1)
        local inner = coroutine.create(function() return now("deep") end)
        local ok, d = coroutine.resume(inner)
        return d
      end)
      local a = co(5)
      local b = co()
      return a, b, coroutine.isyieldable()`;
    expect(await run(src)).toEqual({ status: 'done', values: [6, 'deep', true] });
  });

  it('refuses to wait where Lua cannot yield', async () => {
    const r = await run('table.sort({3, 1, 2}, function(a, b) now(1) return a < b end)');
    expect(r.status === 'error' && r.message).toContain('cannot wait on JS here');
  });

  it('resumes a resolved thread with the settled value through resolve()/reject() by hand', () => {
    const th = vm.spawn(vm.compile('local ok, e = pcall(now, 1) local v = now(2) return ok, e, v', 'h.lua'));
    let r = th.resume();
    expect(r).toMatchObject({ status: 'yield', fromJs: true });
    expect(th.status).toBe('waiting');
    r = th.reject(new Error('nope'));
    expect(r).toMatchObject({ status: 'yield', fromJs: true });
    expect(th.resolve('two')).toEqual({ status: 'done', values: [false, 'nope', 'two'] });
  });

  it('drive() picks up a thread that already waits', async () => {
    const th = vm.spawn(vm.compile('local v = now("first") return v, now("second")', 'p.lua'));
    expect(th.resume()).toMatchObject({ status: 'yield', fromJs: true });
    expect(th.waitingOn).toBeInstanceOf(Promise);
    expect(await drive(th)).toEqual({ status: 'done', values: ['first', 'second'] });
  });

  it('throws on resuming or settling a thread in the wrong state', () => {
    const th = vm.spawn(vm.compile('return 1', 's.lua'));
    expect(() => th.resolve(1)).toThrow(expect.objectContaining({ code: 'PHASEKIT_ERR_LUA_THREAD_STATE' }));
    th.resume();
    expect(() => th.resume()).toThrow(LuaVmError);
  });

  it('closes a waiting thread, running its to-be-closed variables', async () => {
    const closed: string[] = [];
    vm.defineFunction('mark', (c) => void closed.push(c.string(1) ?? ''), vm.sandbox);
    const th = vm.spawn(vm.compile('local t <close> = setmetatable({}, { __close = function() mark("closed") end }) wait(1) return "never"', 'c.lua'));
    const done = drive(th);
    expect(th.status).toBe('waiting');
    th.close();
    expect(closed).toEqual(['closed']);
    queue.splice(0).forEach((w) => w.release());
    const r = await done;
    expect(r.status === 'error' && r.message).toBe('Lua thread was closed while it waited');
    expect(vm.stats().stackTop).toBe(0);
  });

  it.each([100, 1000])('interleaves %i concurrent coroutines, each waiting twice', async (n) => {
    queue.length = 0;
    const chunk = vm.compile('local i = ...\nlocal a = wait(i)\nlocal b = wait(i + 1)\nreturn i, a + b', 'conc.lua');
    const finished: number[] = [];
    const runs = Array.from({ length: n }, (_, i) =>
      drive(vm.spawn(chunk, { args: [i] })).then((r) => {
        finished.push(i);
        return r;
      }),
    );
    // Every coroutine started and is now parked on its first wait.
    expect(queue.length).toBe(n);
    expect(queue.map((w) => w.n)).toEqual(Array.from({ length: n }, (_, i) => i));
    // Release the first waits in reverse order: the second waits queue up in that same order.
    for (const w of queue.splice(0).reverse()) w.release();
    while (queue.length < n) await flush();
    expect(queue.map((w) => w.n)).toEqual(Array.from({ length: n }, (_, i) => n - i));
    // Release the second waits in a scrambled order: threads finish in exactly that order.
    const second = queue.splice(0);
    const order = second.map((_, k) => (k * 7919) % n);
    for (const k of order) second[k]?.release();
    const results = await Promise.all(runs);
    expect(finished).toEqual(order.map((k) => n - k - 1));
    results.forEach((r, i) => expect(r).toEqual({ status: 'done', values: [i, i * 10 + (i + 1) * 10] }));
    expect(vm.stats().stackTop).toBe(0);
  });

  it('keeps other waiting coroutines intact when one fails', async () => {
    queue.length = 0;
    const chunk = vm.compile('local i = ... local v = wait(i) if i % 2 == 0 then error("even " .. i) end return v', 'mix.lua');
    const threads: LuaThread[] = Array.from({ length: 10 }, (_, i) => vm.spawn(chunk, { args: [i] }));
    const runs = threads.map((th) => drive(th));
    queue.splice(0).forEach((w) => (w.n === 3 ? w.fail(new Error('io')) : w.release()));
    const rs = await Promise.all(runs);
    expect(rs.map((r) => (r.status === 'done' ? r.values[0] : r.message))).toEqual([
      'mix.lua:1: even 0', 10, 'mix.lua:1: even 2', 'mix.lua:1: io', 'mix.lua:1: even 4', 50, 'mix.lua:1: even 6', 70, 'mix.lua:1: even 8', 90,
    ]);
  });

  it('runs Lua functions (not only chunks) as threads', async () => {
    const now = vm.getField(vm.sandbox, 'now');
    const [fn] = vm.run('local now = ... return function(a) local v = now(a) return v * 2 end', 'f.lua', now);
    expect(await drive(vm.spawn(fn as LuaRef, { args: [21] }))).toEqual({ status: 'done', values: [42] });
  });
});
