// Tests of vm.call: the non-yielding fast path (lua_pcallk on the call thread, no coroutine).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LuaOpaque, LuaVm, LuaVmError, drive } from './index.js';
import type { CallResult, LuaChunk, LuaRef, LuaValue } from './index.js';

const LIMIT = 30;

function done(r: CallResult): LuaValue[] {
  if (r.status !== 'done') throw new Error(`expected done, got ${JSON.stringify(r)}`);
  return r.values;
}

function failed(r: CallResult): Extract<CallResult, { status: 'error' }> {
  if (r.status !== 'error') throw new Error(`expected an error, got ${JSON.stringify(r)}`);
  return r;
}

describe('vm.call', () => {
  let vm: LuaVm;
  const chunk = (src: string, name = 'call.lua'): LuaChunk => vm.compile(src, name);
  beforeAll(async () => {
    vm = await LuaVm.create({ maxRunMs: LIMIT });
    vm.defineFunction('wait', (c) => c.yield(Promise.resolve(c.value(1))), vm.sandbox);
    vm.defineFunction('fail', (c) => c.raiseError(`js says ${c.checkString(1)}`), vm.sandbox);
  });
  afterAll(() => vm.close());

  const clean = (): void => {
    const s = vm.stats();
    expect(s.stackTop).toBe(0);
    expect(s.callStackTop).toBe(0);
  };

  it('runs a chunk to completion and returns its values; args are its ...', () => {
    const r = vm.call(chunk('local a, b = ... return a .. b, #a, select("#", ...), {}, nil, 2^53, math.maxinteger'), { args: ['ab', 'c'] });
    expect(r).toEqual({ status: 'done', values: ['abc', 2, 2, LuaOpaque.table, null, 2 ** 53, 9223372036854775807n] });
    expect(done(vm.call(chunk('return')))).toEqual([]);
    clean();
  });

  it('calls a Lua function given as a LuaRef (env ignored)', () => {
    const [fn] = vm.run('return function(a, b) return a * b, b end', 'fn');
    expect(done(vm.call(fn as LuaRef, { args: [6, 7], env: 'sandbox' }))).toEqual([42, 7]);
    (fn as LuaRef).release();
    clean();
  });

  it("gives each call a fresh _ENV by default; 'sandbox' and env tables as for spawn", () => {
    const setX = chunk('local before = x x = (x or 0) + 1 return before, x');
    expect(done(vm.call(setX))).toEqual([null, 1]);
    expect(done(vm.call(setX))).toEqual([null, 1]);
    const env = vm.newEnv();
    expect(done(vm.call(setX, { env }))).toEqual([null, 1]);
    expect(done(vm.call(setX, { env }))).toEqual([1, 2]);
    expect(vm.getField(env, 'x')).toBe(2);
    env.release();
    expect(done(vm.call(chunk('return string.upper("x"), _G == _ENV'), { env: 'sandbox' }))).toEqual(['X', true]);
    expect(done(vm.call(chunk('return string.upper("x"), _G == _ENV')))).toEqual(['X', false]);
  });

  it('reports errors with the same message and traceback as a failed thread', async () => {
    const sources = [
      'local a = 1\nlocal function f(t)\n  return t.x\nend\nlocal r = f(nil)\nreturn r',
      'error({ code = 500, msg = "boom" })',
      'error(setmetatable({}, { __tostring = function() return "custom" end }))',
      'local function deep(n) if n == 0 then error("bottom") end return deep(n - 1) + 1 end\nreturn deep(30)',
      'fail("x")',
      'undefined_global()',
    ];
    for (const src of sources) {
      const c = chunk(src, 'content.lua');
      const viaThread = await drive(vm.spawn(c));
      const viaCall = vm.call(c);
      expect(viaCall).toEqual(viaThread);
      expect(failed(viaCall).traceback).toContain('stack traceback:');
    }
    const r = failed(vm.call(chunk('local a = 1\nlocal function f(t)\n  return t.x\nend\nlocal r = f(nil)\nreturn r', 'content.lua')));
    expect(r.message).toBe("content.lua:3: attempt to index a nil value (local 't')");
    expect(r.traceback).toBe(
      "content.lua:3: attempt to index a nil value (local 't')\nstack traceback:\n\tcontent.lua:3: in local 'f'\n\tcontent.lua:5: in function <content.lua:1>",
    );
    expect(failed(vm.call(chunk('fail("x")', 'j.lua'))).message).toBe('j.lua:1: js says x');
    clean();
  });

  it('turns call.yield in a JS function into a catchable "attempt to yield" error', async () => {
    expect(done(vm.call(chunk('local ok, e = pcall(wait, 1) return ok, e')))).toEqual([
      false,
      'attempt to yield inside vm.call (a call that runs to completion): cannot wait on JS here',
    ]);
    const r = failed(vm.call(chunk('local x = 1\nwait(x)', 'w.lua')));
    expect(r.message).toBe('w.lua:2: attempt to yield inside vm.call (a call that runs to completion): cannot wait on JS here');
    expect(r.killed).toBe(false);
    // Inside a user coroutine too (it would otherwise hand the wait up to a thread that does not exist).
    const co = failed(vm.call(chunk('local co = coroutine.wrap(function() return wait(1) end) return co()')));
    expect(co.message).toContain('attempt to yield inside vm.call');
    // A Lua-side yield at the top of the call is Lua's own error.
    expect(failed(vm.call(chunk('coroutine.yield(1)'))).message).toBe('attempt to yield across a C-call boundary');
    clean();
    // Threads still wait normally afterwards.
    expect(await drive(vm.spawn(chunk('return wait(5)')))).toEqual({ status: 'done', values: [5] });
  });

  it('runs user coroutines (Lua-side yields) inside the call', () => {
    const src = `
      local gen = coroutine.wrap(function() for i = 1, 3 do coroutine.yield(i) end end)
      local co = coroutine.create(function(a) local b = coroutine.yield(a + 1) return b * 2 end)
      local _, x = coroutine.resume(co, 1)
      local _, y = coroutine.resume(co, 10)
      return gen() + gen() + gen(), x, y, coroutine.isyieldable()`;
    expect(done(vm.call(chunk(src)))).toEqual([6, 2, 20, false]);
  });

  it('does not let handler code resume or close the call thread', () => {
    const out = done(
      vm.call(chunk('local co = coroutine.running() local a, b = pcall(coroutine.resume, co) local c, d = pcall(coroutine.close, co) return a, b, c, d')),
    );
    expect(out[0]).toBe(false);
    expect(out[1]).toContain('cannot resume a coroutine driven by the host');
    expect(out[2]).toBe(false);
    expect(out[3]).toContain('cannot close a coroutine driven by the host');
    // Kept for later: still refused from a thread once the call is over.
    vm.call(chunk('saved_co = coroutine.running()'), { env: 'sandbox' });
    const later = done(vm.call(chunk('return pcall(coroutine.resume, saved_co)')));
    expect(later[0]).toBe(false);
    vm.call(chunk('saved_co = nil'), { env: 'sandbox' });
    clean();
  });

  it.each([
    ['a bare loop', 'while true do end'],
    ['a loop swallowing errors with pcall', 'while true do pcall(function() while true do end end) end'],
    ['a loop swallowing errors with xpcall', 'while true do xpcall(function() while true do end end, function(e) return e end) end'],
    ['a spinning coroutine re-resumed forever', 'local co = coroutine.wrap(function() while true do pcall(function() while true do end end) end end) while true do pcall(co) end'],
    ['fresh spinning coroutines in a loop', 'while true do coroutine.resume(coroutine.create(function() while true do end end)) end'],
    ['a pcall loop in a sort comparator', 'table.sort({3, 2, 1}, function(a, b) while true do pcall(function() while true do end end) end end)'],
    ['a pcall loop in a gsub callback', 'string.gsub("abc", "%w", function() while true do pcall(string.rep, "x", -1) end end)'],
    ['a loop swallowing errors in a load() reader', 'while true do pcall(load, function() while true do end end) end'],
  ])('stops %s at the CPU limit (pcall cannot catch it)', (_name, src) => {
    const t0 = performance.now();
    const r = failed(vm.call(chunk(src, 'spin.lua')));
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(r.killed).toBe(true);
    expect(r.message).toBe(`Lua CPU time limit exceeded (maxRunMs=${LIMIT})`);
    expect(r.traceback).toContain('spin.lua:1');
    clean();
    // The kill flag is cleared: pcall works normally again.
    expect(done(vm.call(chunk('local ok, e = pcall(error, "x", 0) return ok, e')))).toEqual([false, 'x']);
  });

  it('stops a looping __tostring met while describing an error, and the VM goes on', async () => {
    const src = 'error(setmetatable({ code = 7 }, { __tostring = function() while true do end end }))';
    const viaCall = failed(vm.call(chunk(src, 'loop.lua')));
    const viaThread = await drive(vm.spawn(chunk(src, 'loop.lua')));
    // The helper's pcall falls back to describing the table by its fields; the run itself was not killed.
    expect(viaCall.message).toBe('{code = 7}');
    expect(viaCall.killed).toBe(false);
    expect(viaThread).toMatchObject({ status: 'error', message: '{code = 7}', killed: false });
    // No kill flag is left behind: the sandbox's pcall still catches ordinary errors.
    expect(done(vm.call(chunk('return pcall(error, "x")'), { env: 'sandbox' }))).toEqual([false, 'x']);
  });

  it('takes maxRunMs per call (0: no limit of its own)', () => {
    const long = chunk('local n = 0 for i = 1, 2e7 do n = n + 1 end return n');
    expect(failed(vm.call(long)).killed).toBe(true);
    expect(done(vm.call(long, { maxRunMs: 0 }))).toEqual([2e7]);
    const r = failed(vm.call(chunk('while true do end'), { maxRunMs: 5 }));
    expect(r.message).toBe('Lua CPU time limit exceeded (maxRunMs=5)');
  });

  it('throws for arguments Lua cannot hold and for released chunks, leaving the stacks as they were', () => {
    const c = chunk('return ...');
    expect(() => vm.call(c, { args: [1, 2n ** 70n] })).toThrow(LuaVmError);
    const gone = chunk('return 1');
    gone.release();
    expect(() => vm.call(gone)).toThrow(/released/);
    const many = Array.from({ length: 5000 }, (_, i) => i);
    expect(done(vm.call(c, { args: many })).length).toBe(5000);
    clean();
  });

  it('reports running out of memory like a thread does', async () => {
    const capped = await LuaVm.create({ memoryMaxBytes: 8 * 1024 * 1024, maxRunMs: 5000 });
    const r = failed(capped.call(capped.compile('local t = {} for i = 1, 1e8 do t[i] = i end', 'mem.lua')));
    expect(r.message).toBe('not enough memory');
    expect(r.killed).toBe(false);
    capped.collectGarbage();
    expect(done(capped.call(capped.compile('return #string.rep("x", 1000)', 'ok.lua')))).toEqual([1000]);
    expect(capped.stats().callStackTop).toBe(0);
    capped.close();
  });
});

describe('vm.call re-entrancy', () => {
  let vm: LuaVm;
  beforeAll(async () => {
    vm = await LuaVm.create({ maxRunMs: LIMIT });
    vm.defineFunction('wait', (c) => c.yield(Promise.resolve(c.value(1))), vm.sandbox);
  });
  afterAll(() => vm.close());

  it('lets a JS function called from a vm.call call vm.call again (nested), keeping the outer stack', () => {
    const inner = vm.compile('local x = ... return x * 2, "inner"', 'inner.lua');
    vm.defineFunction(
      'nested',
      (c) => {
        const n = c.checkNumber(1);
        c.pushString('before'); // a result pushed before the nested call must survive it
        const r = vm.call(inner, { args: [n] });
        c.pushValue(r.status === 'done' ? (r.values[0] ?? null) : r.message);
        return 2;
      },
      vm.sandbox,
    );
    const outer = vm.compile('local a, b = nested(21) local c, d = nested(1) return a, b + d', 'outer.lua');
    expect(vm.call(outer)).toEqual({ status: 'done', values: ['before', 44] });
    expect(vm.run('local S = ... return S.nested(5)', 'trusted', vm.sandbox)).toEqual(['before', 10]);
    expect(vm.stats().callStackTop).toBe(0);
    expect(vm.stats().stackTop).toBe(0);
  });

  it('keeps a nested failure or kill to the nested call', () => {
    const boom = vm.compile('error("inner boom")', 'boom.lua');
    const spin = vm.compile('while true do end', 'spin.lua');
    vm.defineFunction(
      'try',
      (c) => {
        const r = vm.call(c.checkString(1) === 'boom' ? boom : spin, { maxRunMs: 5 });
        c.pushString(r.status === 'error' ? `${r.killed ? 'killed' : 'failed'}: ${r.message}` : 'ok');
        return 1;
      },
      vm.sandbox,
    );
    const outer = vm.compile('local a = try("boom") local b = try("spin") local ok, e = pcall(error, "still catchable", 0) return a, b, ok, e', 'outer.lua');
    expect(done(vm.call(outer))).toEqual([
      'failed: boom.lua:1: inner boom',
      'killed: Lua CPU time limit exceeded (maxRunMs=5)',
      false,
      'still catchable',
    ]);
    // From a thread as well, and the thread can still wait afterwards.
    return drive(vm.spawn(vm.compile('local a = try("spin") return a, wait(7)', 't.lua'))).then((r) => {
      expect(r).toEqual({ status: 'done', values: ['killed: Lua CPU time limit exceeded (maxRunMs=5)', 7] });
    });
  });

  it("applies the enclosing run's deadline to a nested call, even one without a limit of its own", async () => {
    const spin = vm.compile('while true do end', 'spin.lua');
    let inner: CallResult | undefined;
    vm.defineFunction(
      'spinner',
      () => {
        inner = vm.call(spin, { maxRunMs: 0 });
        return 0;
      },
      vm.sandbox,
    );
    // The outer thread is past its deadline too: its next hook check stops it.
    const r = await drive(vm.spawn(vm.compile('spinner() local n = 0 for i = 1, 1e7 do n = n + i end return "after"', 'outer.lua')));
    expect(inner?.status === 'error' && inner.killed).toBe(true);
    expect(r.status === 'error' && r.killed).toBe(true);
    expect(vm.stats().callStackTop).toBe(0);
  });

  it('lets a JS function inside a vm.call run threads, and a thread run vm.calls', async () => {
    const viaThread = vm.compile('local x = ... return x + 1', 'th.lua');
    vm.defineFunction(
      'inthread',
      (c) => {
        const r = vm.spawn(viaThread, { args: [c.checkNumber(1)] }).resume();
        c.pushValue(r.status === 'done' ? (r.values[0] ?? null) : null);
        return 1;
      },
      vm.sandbox,
    );
    const viaCall = vm.compile('local x = ... return inthread(x) * 10', 'call.lua');
    vm.defineFunction(
      'incall',
      (c) => {
        const r = vm.call(viaCall, { args: [c.checkNumber(1)] });
        c.pushValue(r.status === 'done' ? (r.values[0] ?? null) : r.message);
        return 1;
      },
      vm.sandbox,
    );
    expect(done(vm.call(vm.compile('return incall(1)', 'o.lua')))).toEqual([20]);
    expect(await drive(vm.spawn(vm.compile('local a = incall(2) local b = wait(3) return a, b', 'o.lua')))).toEqual({ status: 'done', values: [30, 3] });
  });

  it('refuses unbounded nesting (vm.call only, or mixed with threads) with a clear error and recovers', () => {
    const rec = vm.compile('local n = ... return recurse(n + 1)', 'rec.lua');
    let deepest = 0;
    vm.defineFunction(
      'recurse',
      (c) => {
        const n = c.checkNumber(1);
        deepest = Math.max(deepest, n);
        const r = vm.call(rec, { args: [n] });
        if (r.status !== 'done') return c.raiseError(r.message, 0);
        c.pushValue(r.values[0] ?? null);
        return 1;
      },
      vm.sandbox,
    );
    const r = failed(vm.call(rec, { args: [0] }));
    expect(r.message).toContain('C stack overflow');
    expect(deepest).toBeGreaterThanOrEqual(150);
    expect(vm.stats().callStackTop).toBe(0);
    expect(done(vm.call(vm.compile('return 1 + 1', 'ok.lua')))).toEqual([2]);

    // Alternating vm.call and threads: Lua's own count restarts on the call thread, the bridge's does not.
    const mixed = vm.compile('local n = ... return mix(n + 1)', 'mix.lua');
    let levels = 0;
    vm.defineFunction(
      'mix',
      (c) => {
        const n = c.checkNumber(1);
        levels = Math.max(levels, n);
        const r = n % 3 === 0 ? vm.call(mixed, { args: [n] }) : vm.spawn(mixed, { args: [n] }).resume();
        if (r.status !== 'done') return c.raiseError(r.status === 'error' ? r.message : 'yielded', 0);
        c.pushValue(r.values[0] ?? null);
        return 1;
      },
      vm.sandbox,
    );
    expect(failed(vm.call(mixed, { args: [0] })).message).toContain('C stack overflow');
    expect(levels).toBeLessThanOrEqual(201);
    expect(vm.stats().callStackTop).toBe(0);
    expect(vm.stats().stackTop).toBe(0);
    expect(done(vm.call(vm.compile('return 2 + 2', 'ok.lua')))).toEqual([4]);
  });

  it('refuses to close the VM from inside a call', () => {
    vm.defineFunction('closeit', (c) => {
      try {
        vm.close();
      } catch (e) {
        c.pushString((e as Error).message);
        return 1;
      }
      return 0;
    }, vm.sandbox);
    expect(done(vm.call(vm.compile('return closeit()', 'c.lua')))).toEqual(['cannot close the Lua VM while Lua code is running']);
    expect(vm.closed).toBe(false);
  });
});

describe('values across wasm memory growth', () => {
  it('reads and writes strings correctly after the wasm memory grew', async () => {
    const vm = await LuaVm.create({ maxRunMs: 0 });
    const before = vm.stats().wasmHeapBytes;
    const grow = vm.compile('local t = {} for i = 1, 2e5 do t[i] = { i, tostring(i) } end big = t return #t', 'grow.lua');
    expect(done(vm.call(grow, { env: 'sandbox' }))).toEqual([2e5]);
    expect(vm.stats().wasmHeapBytes).toBeGreaterThan(before);
    const echo = vm.compile('local s, b = ... return s .. "!", b, #b', 'echo.lua');
    const bytes = Uint8Array.from([0, 255, 1, 128]);
    expect(done(vm.call(echo, { args: ['héllo', bytes] }))).toEqual(['héllo!', bytes, 4]);
    vm.close();
  });
});
