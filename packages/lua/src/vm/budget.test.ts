// Outer deadlines (a budget spread over many runs), C-heavy work under the CPU limit, and string.rep.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LuaVm, drive } from './index.js';

describe('outer deadline (setOuterDeadline)', () => {
  let vm: LuaVm;
  beforeAll(async () => {
    vm = await LuaVm.create({ maxRunMs: 0, limits: true });
  });
  afterAll(() => vm.close());

  it('stops threads and calls at the outer deadline with its message, though they have no limit of their own', async () => {
    const chunk = vm.compile('while true do pcall(function() while true do end end) end', 'spin.lua');
    vm.setOuterDeadline(performance.now() + 30, 'request budget spent');
    try {
      const call = vm.call(chunk);
      expect(call).toMatchObject({ status: 'error', killed: true, message: 'request budget spent' });
      vm.setOuterDeadline(performance.now() + 30, 'request budget spent');
      const th = await drive(vm.spawn(chunk));
      expect(th).toMatchObject({ status: 'error', killed: true, message: 'request budget spent' });
    } finally {
      vm.setOuterDeadline(Infinity, '');
    }
    expect(vm.call(vm.compile('local n = 0 for i = 1, 1e5 do n = n + i end return n', 'ok.lua'))).toEqual({ status: 'done', values: [5000050000] });
  });

  it('takes the sooner of the run\'s own limit and the outer deadline, and says which one stopped it', async () => {
    const own = await LuaVm.create({ maxRunMs: 20 });
    try {
      own.setOuterDeadline(performance.now() + 10_000, 'outer');
      expect(own.call(own.compile('while true do end', 'x'))).toMatchObject({ killed: true, message: 'Lua CPU time limit exceeded (maxRunMs=20)' });
      own.setOuterDeadline(performance.now() + 20, 'outer');
      expect(own.call(own.compile('while true do end', 'x'), { maxRunMs: 10_000 })).toMatchObject({ killed: true, message: 'outer' });
    } finally {
      own.close();
    }
  });
});

describe('C-heavy work under the CPU limit', () => {
  it('stops a loop around a costly C call that allocates (s:upper() on 10 MB) soon after the limit', async () => {
    // Before: the hook saw the clock every 10,000 VM instructions, ~2,500 upper() calls: 25-30 s.
    const vm = await LuaVm.create({ maxRunMs: 100 });
    try {
      const r = vm.call(vm.compile('local s = string.rep("a", 10 * 2^20) local n = 0 while true do local u = s:upper() n = n + 1 end', 'upper.lua'));
      expect(r).toMatchObject({ status: 'error', killed: true, message: 'Lua CPU time limit exceeded (maxRunMs=100)' });
      // The forced hook is back to its normal pace: a long pure-Lua loop under a large limit finishes.
      const ok = vm.call(vm.compile('local n = 0 for i = 1, 1e6 do n = n + 1 end return n', 'ok.lua'), { maxRunMs: 60_000 });
      expect(ok).toEqual({ status: 'done', values: [1e6] });
    } finally {
      vm.close();
    }
  });
});

describe('string.rep (native fill)', () => {
  let vm: LuaVm;
  beforeAll(async () => {
    vm = await LuaVm.create({ maxRunMs: 5000, memoryMaxBytes: 64 * 2 ** 20 });
  });
  afterAll(() => vm.close());
  const run = (src: string) => vm.call(vm.compile(src, 'rep.lua'));

  it('gives Lua\'s results', () => {
    expect(run(`return string.rep("ab", 3), string.rep("ab", 3, ","), ("x"):rep(1, "-"), string.rep("x", 0), string.rep("x", -5),
      string.rep("", 1e15), string.rep("", 3, ""), string.rep(12, 2.0), string.rep("a\\0b", 2, "\\0"), #string.rep("xyz", 1e6, "--")`)).toEqual({
      status: 'done',
      values: ['ababab', 'ab,ab,ab', 'x', '', '', '', '', '1212', 'a\0b\0a\0b', 3e6 + 2 * (1e6 - 1)],
    });
    expect(run('local s = string.rep("abc", 1000, "|") return s == ("abc|"):rep(999) .. "abc"')).toEqual({ status: 'done', values: [true] });
  });

  it('raises Lua\'s errors', () => {
    expect(run('return pcall(string.rep)')).toEqual({ status: 'done', values: [false, "bad argument #1 to 'string.rep' (string expected, got no value)"] });
    expect(run('return pcall(string.rep, "x", 1.5)')).toEqual({ status: 'done', values: [false, "bad argument #2 to 'string.rep' (number has no integer representation)"] });
    expect(run('return pcall(string.rep, "x", "y")')).toEqual({ status: 'done', values: [false, "bad argument #2 to 'string.rep' (number expected, got string)"] });
    expect(run('return pcall(string.rep, "x", 2, {})')).toEqual({ status: 'done', values: [false, "bad argument #3 to 'string.rep' (string expected, got table)"] });
    expect(run('return pcall(string.rep, "xx", 2^40)')).toEqual({ status: 'done', values: [false, 'resulting string too large'] });
    expect(run('local ok, e = pcall(string.rep, "x", 100 * 2^20) return ok, e')).toEqual({ status: 'done', values: [false, 'not enough memory'] });
  });
});
