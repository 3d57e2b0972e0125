// Tests of LuaVm basics: values both ways, binary safety, compile errors, sandbox, JS functions.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LuaOpaque, LuaRef, LuaRuntimeError, LuaSyntaxError, LuaVm, LuaVmError, drive } from './index.js';
import type { LuaCall, LuaValue } from './index.js';

const ALL_BYTES = Uint8Array.from({ length: 256 }, (_, i) => i);

async function runChunk(vm: LuaVm, source: string, args: LuaValue[] = []): Promise<LuaValue[]> {
  const r = await drive(vm.spawn(vm.compile(source, 'test.lua'), { args }));
  if (r.status !== 'done') throw new Error(r.message);
  return r.values;
}

describe('LuaVm values', () => {
  let vm: LuaVm;
  beforeAll(async () => {
    vm = await LuaVm.create();
  });
  afterAll(() => vm.close());

  it('returns Lua scalars as JS values, 64-bit integers beyond 2^53 as bigint', () => {
    expect(vm.run('return 1, 2.5, "x", nil, true, false, 2^53, math.maxinteger, math.mininteger', 'values')).toEqual([
      1,
      2.5,
      'x',
      null,
      true,
      false,
      2 ** 53,
      9223372036854775807n,
      -9223372036854775808n,
    ]);
  });

  it('pushes integral numbers as Lua integers and others as floats', () => {
    vm.defineFunction('nums', (c) => {
      c.pushNumber(10534);
      c.pushNumber(1.5);
      c.pushNumber(-7);
      c.pushNumber(2 ** 53);
      c.pushInteger(2n ** 62n);
      return 5;
    });
    expect(
      vm.run('local a, b, c, d, e = nums() return tostring(a), math.type(a), tostring(b), tostring(c), math.type(d), math.type(e), e', 'n'),
    ).toEqual(['10534', 'integer', '1.5', '-7', 'float', 'integer', 2n ** 62n]);
  });

  it('passes JS numbers and bigints as arguments with the right Lua subtype', async () => {
    const out = await runChunk(vm, 'local a, b, c = ... return math.type(a), math.type(b), c + 1, tostring(a)', [42, 0.25, 2n ** 62n]);
    expect(out).toEqual(['integer', 'float', 2n ** 62n + 1n, '42']);
  });

  it('reads exact 64-bit integers from Lua arguments', () => {
    let seen: bigint | undefined;
    vm.defineFunction('takeint', (c) => {
      seen = c.integer(1);
      return 0;
    });
    vm.run('takeint(math.maxinteger)', 'i');
    expect(seen).toBe(9223372036854775807n);
  });

  it('returns tables from run() as LuaRefs and from threads as unanchored LuaOpaque', async () => {
    const [t] = vm.run('return { answer = 42 }', 't');
    expect(t).toBeInstanceOf(LuaRef);
    expect(vm.getField(t as LuaRef, 'answer')).toBe(42);
    (t as LuaRef).release();
    expect(await runChunk(vm, 'return {}, print')).toEqual([LuaOpaque.table, LuaOpaque.function]);
  });

  it('refuses to push values Lua cannot hold', () => {
    const fn = vm.createFunction(() => 0);
    fn.release();
    expect(() => vm.run('return ...', 'x', fn)).toThrow(LuaVmError);
    expect(() => vm.run('return ...', 'x', 2n ** 64n)).toThrow(/does not fit/);
  });
});

describe('LuaVm binary safety', () => {
  let vm: LuaVm;
  beforeAll(async () => {
    vm = await LuaVm.create();
    vm.defineFunction(
      'echo',
      (c) => {
        for (let i = 1; i <= c.argCount; i++) c.pushBytes(c.checkBytes(i));
        return c.argCount;
      },
      vm.sandbox,
    );
  });
  afterAll(() => vm.close());

  it('round-trips every byte 0..255 as an argument and a result', async () => {
    const [len, back, first, last] = await runChunk(vm, 'local s = ... return #s, s, s:byte(1), s:byte(256)', [ALL_BYTES]);
    expect([len, first, last]).toEqual([256, 0, 255]);
    expect(back).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(back as Uint8Array).equals(Buffer.from(ALL_BYTES))).toBe(true);
  });

  it('round-trips every byte through a JS function, both ways', async () => {
    const out = await runChunk(vm, 'local t = {} for i = 0, 255 do t[#t + 1] = string.char(i) end local s = table.concat(t) local e = echo(s) return e == s, #e');
    expect(out).toEqual([true, 256]);
  });

  it('keeps "a\\0b" whole as string and bytes', async () => {
    let asString: string | undefined;
    vm.defineFunction(
      'peek',
      (c) => {
        asString = c.string(1);
        c.pushString('x\0y');
        return 1;
      },
      vm.sandbox,
    );
    expect(await runChunk(vm, 'local r = peek("a\\0b") return #r, r', [])).toEqual([3, 'x\0y']);
    expect(asString).toBe('a\0b');
    expect(await runChunk(vm, 'return #(...)', ['a\0b'])).toEqual([3]);
  });

  it('compiles chunk sources byte for byte', async () => {
    // Long brackets keep raw bytes (Lua only normalises line breaks, so \n and \r are left out).
    const body = ALL_BYTES.filter((b) => b !== 10 && b !== 13 && b !== 93);
    const src = Buffer.concat([Buffer.from('return [=['), body, Buffer.from(']=]')]);
    const r = await drive(vm.spawn(vm.compile(src, 'bin.lua')));
    expect(r.status).toBe('done');
    const [s] = r.status === 'done' ? r.values : [];
    expect(Buffer.from(s as Uint8Array).equals(Buffer.from(body))).toBe(true);
  });

  it('decodes UTF-8 results as strings and keeps invalid UTF-8 as bytes', async () => {
    const [ok, bad] = await runChunk(vm, 'return "héllo ✓", "\\xff\\xfe"');
    expect(ok).toBe('héllo ✓');
    expect(bad).toEqual(Uint8Array.from([0xff, 0xfe]));
  });
});

describe('LuaVm compile and errors', () => {
  let vm: LuaVm;
  beforeAll(async () => {
    vm = await LuaVm.create();
  });
  afterAll(() => vm.close());

  it('throws LuaSyntaxError with chunkName:LINE: msg', () => {
    let err: unknown;
    try {
      vm.compile('local x = 1\nx = = 2', 'access(location "= /api")');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LuaSyntaxError);
    expect((err as LuaSyntaxError).code).toBe('PHASEKIT_ERR_LUA_SYNTAX');
    expect((err as LuaSyntaxError).message).toBe(`access(location "= /api"):2: unexpected symbol near '='`);
  });

  it('reports a stray end as Lua would for the source as written', () => {
    expect(() => vm.compile('return 1\nend', 'c.lua')).toThrow("c.lua:2: <eof> expected near 'end'");
  });

  it('keeps runtime error line numbers and gives the traceback', async () => {
    const chunk = vm.compile('local a = 1\nlocal function f(t)\n  return t.x\nend\nlocal r = f(nil)\nreturn r', 'content.lua');
    const r = await drive(vm.spawn(chunk));
    expect(r.status).toBe('error');
    if (r.status !== 'error') return;
    expect(r.message).toBe("content.lua:3: attempt to index a nil value (local 't')");
    expect(r.traceback).toContain('stack traceback:');
    expect(r.traceback).toMatch(/content\.lua:3: in (local|upvalue|function) '?f'?/);
    expect(r.traceback).toContain('content.lua:5: in function <content.lua:1>');
    expect(r.killed).toBe(false);
  });

  it('gives the handler its own varargs', async () => {
    expect(await runChunk(vm, 'return select("#", ...), ...', ['a', 'b'])).toEqual([2, 'a', 'b']);
  });

  it('describes error() with a table value readably', async () => {
    const r = await drive(vm.spawn(vm.compile('error({ code = 500, msg = "boom", [1] = true })', 'e.lua')));
    expect(r.status === 'error' && r.message).toBe('{[1] = true, code = 500, msg = "boom"}');
    const r2 = await drive(vm.spawn(vm.compile('error(setmetatable({}, { __tostring = function() return "custom" end }))', 'e.lua')));
    expect(r2.status === 'error' && r2.message).toBe('custom');
  });

  it('run() throws LuaRuntimeError with the traceback, and refuses code that waits', () => {
    let err: unknown;
    try {
      vm.run('local x = nil\nreturn x.y', 'boot.lua');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LuaRuntimeError);
    expect((err as LuaRuntimeError).code).toBe('PHASEKIT_ERR_LUA_RUNTIME');
    expect((err as LuaRuntimeError).message).toBe("boot.lua:2: attempt to index a nil value (local 'x')");
    expect((err as LuaRuntimeError).traceback).toContain('stack traceback:');
    vm.defineFunction('waits', (c) => c.yield(Promise.resolve(1)));
    expect(() => vm.run('waits()', 'w.lua')).toThrow(/yielded/);
    expect(vm.stats().stackTop).toBe(0);
  });
});

describe('LuaVm sandbox', () => {
  let vm: LuaVm;
  beforeAll(async () => {
    vm = await LuaVm.create();
  });
  afterAll(() => vm.close());

  it('hides process, file and debug-hook access from handler code', async () => {
    const out = await runChunk(
      vm,
      'return os.exit, os.execute, os.remove, os.getenv, io, dofile, loadfile, require, package, debug.sethook, debug.getregistry',
    );
    expect(out).toEqual(new Array(11).fill(null));
  });

  it('keeps the usual libraries and OpenResty aliases', async () => {
    const out = await runChunk(
      vm,
      'return string.upper("a"), table.concat({1, 2}), math.floor(1.5), utf8.char(72), unpack == table.unpack, type(pcall), select("#", 1, 2), os.time() > 0, _G.string == string, type(debug.traceback)',
    );
    expect(out).toEqual(['A', '12', 1, 'H', true, 'function', 2, true, true, 'function']);
  });

  it('loads text chunks only, in the sandbox', async () => {
    const out = await runChunk(vm, 'local f, err = load(string.dump(function() end)) local g = load("return io, string") return f, err, g()');
    expect(out[0]).toBe(null);
    expect(out[1]).toContain('binary');
    expect(out.slice(2)).toEqual([null, LuaOpaque.table]);
  });

  it('gives each run a fresh _ENV unless told otherwise', async () => {
    const chunk = vm.compile('counter = (counter or 0) + 1 return counter', 'g.lua');
    const once = async (env?: 'sandbox' | LuaRef) => {
      const r = await drive(vm.spawn(chunk, env === undefined ? {} : { env }));
      return r.status === 'done' ? r.values[0] : r.message;
    };
    expect([await once(), await once()]).toEqual([1, 1]);
    expect(vm.getField(vm.sandbox, 'counter')).toBe(null);
    const env = vm.newEnv();
    expect([await once(env), await once(env)]).toEqual([1, 2]);
    expect(vm.getField(env, 'counter')).toBe(2);
    env.release();
    expect([await once('sandbox'), await once('sandbox')]).toEqual([1, 2]);
    vm.setField(vm.sandbox, 'counter', null);
  });

  it('shares what run() code puts in the sandbox', async () => {
    vm.run('local S = ... S.answer = 42', 'boot', vm.sandbox);
    expect(await runChunk(vm, 'return answer, os.exit == nil')).toEqual([42, true]);
    expect(vm.run('return os.exit ~= nil', 'trusted')).toEqual([true]);
  });

  it('does not let handler code resume or close the thread the host drives', async () => {
    const out = await runChunk(vm, 'local co = coroutine.running() local a, b = pcall(coroutine.resume, co) local c, d = pcall(coroutine.close, co) return a, b, c, d');
    expect(out[0]).toBe(false);
    expect(out[1]).toContain('cannot resume a coroutine driven by the host');
    expect(out[2]).toBe(false);
    expect(out[3]).toContain('cannot close a coroutine driven by the host');
  });

  it('refuses __gc metatables and collectgarbage("stop")', async () => {
    const out = await runChunk(vm, 'local a, b = pcall(setmetatable, {}, { __gc = print }) local c, d = pcall(collectgarbage, "stop") return a, b, c, d, type(collectgarbage("count"))');
    expect(out[0]).toBe(false);
    expect(out[1]).toContain('__gc');
    expect(out[2]).toBe(false);
    expect(out[3]).toContain("option 'stop' is not allowed");
    expect(out[4]).toBe('number');
  });
});

describe('JS functions (LuaCall)', () => {
  let vm: LuaVm;
  beforeAll(async () => {
    vm = await LuaVm.create();
  });
  afterAll(() => vm.close());

  it('sees argument types and values', () => {
    const seen: unknown[] = [];
    vm.defineFunction('inspect', (c) => {
      for (let i = 1; i <= c.argCount + 1; i++) seen.push([c.type(i), c.value(i)]);
      seen.push(c.number(2), c.string(2), c.boolean(4), c.isNil(5), c.isNil(c.argCount + 1));
      return 0;
    });
    vm.run('inspect("s", 3, 1.5, false, nil, {})', 't');
    expect(seen).toEqual([
      ['string', 's'],
      ['number', 3],
      ['number', 1.5],
      ['boolean', false],
      ['nil', null],
      ['table', LuaOpaque.table],
      ['none', undefined],
      3,
      '3',
      false,
      true,
      true,
    ]);
  });

  it('raises Lua errors that pcall catches with the message intact', () => {
    vm.defineFunction('fail', (c) => c.raiseError(c.checkString(1), c.number(2) ?? 1));
    vm.defineFunction('throws', () => {
      throw new Error('kaput: 100%');
    });
    const out = vm.run(
      `local a, b = pcall(function()
        fail("boom")
      end)
      local c, d = pcall(fail, "plain", 0)
      local e, f = pcall(function() local x = throws() return x end)
      return a, b, c, d, e, f`,
      'r.lua',
    );
    expect(out).toEqual([false, 'r.lua:2: boom', false, 'plain', false, 'r.lua:5: kaput: 100%']);
  });

  it('raises bad argument errors like luaL_argerror', () => {
    vm.defineFunction('needsString', (c) => {
      c.pushString(c.checkString(1));
      return 1;
    });
    const [ok, msg] = vm.run('local ok, e = pcall(function() local x = needsString({}) return x end) return ok, e', 'a.lua');
    expect(ok).toBe(false);
    expect(msg).toBe("a.lua:1: bad argument #1 to 'needsString' (string expected, got table)");
  });

  it('builds tables and anchors Lua values on request', () => {
    let kept: LuaRef | undefined;
    vm.defineFunction('mk', (c) => {
      kept = c.ref(1);
      c.pushTable({ a: 1, b: 'two' });
      c.pushTable([10, 20, 30]);
      return 2;
    });
    expect(vm.run('local r, l = mk({ keep = "me" }) return r.a, r.b, #l, l[3]', 'm')).toEqual([1, 'two', 3, 30]);
    expect(kept).toBeInstanceOf(LuaRef);
    expect(vm.getField(kept as LuaRef, 'keep')).toBe('me');
    kept?.release();
  });

  it('stops a LuaCall from being used after its function returned', () => {
    let saved: LuaCall | undefined;
    vm.defineFunction('keep', (c) => {
      saved = c;
      return 0;
    });
    vm.run('keep(1)', 'k');
    expect(() => saved?.number(1)).toThrow(LuaVmError);
  });

  it('allows JS functions to run other Lua threads synchronously (re-entrancy)', () => {
    const inner = vm.compile('local x = ... return x * 2', 'inner.lua');
    vm.defineFunction('nested', (c) => {
      const r = vm.spawn(inner, { args: [c.checkNumber(1)] }).resume();
      c.pushValue(r.status === 'done' ? r.values[0] : null);
      return 1;
    });
    expect(vm.run('return nested(21) + nested(1)', 'n')).toEqual([44]);
    expect(vm.stats().stackTop).toBe(0);
  });

  it('is unusable after close()', async () => {
    const v2 = await LuaVm.create();
    v2.close();
    expect(() => v2.run('return 1', 'x')).toThrow(expect.objectContaining({ code: 'PHASEKIT_ERR_LUA_VM_CLOSED' }));
  });
});
