// Lua syntax and runtime errors, the CPU limit, concurrency, luaFile and require.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createEngine, inject } from 'phasekit';
import { luaEngine, runContent } from './helpers.js';

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));

describe('errors', () => {
  it('a syntax error stops the engine from starting, naming location, phase and line', async () => {
    await expect(createEngine({ locations: [{ match: '= /api', access: { lua: 'local x = 1\nif x then' } }] }, { logger: () => undefined }))
      .rejects.toMatchObject({ code: 'PHASEKIT_ERR_LUA_SYNTAX', message: `access(location "= /api"):2: 'end' expected near <eof>` });
  });

  it('a runtime error answers 500, logs message and traceback, and the next request is fine', async () => {
    const { engine, logs } = await luaEngine({
      locations: [{ match: '/', content: { lua: 'local function inner() error("boom") end\nif ngx.var.arg_fail then inner() end\nngx.say("fine")' } }],
    });
    const bad = await inject(engine, '/?fail=1');
    expect(bad.status).toBe(500);
    expect(logs).toHaveLength(1);
    // Worded as lua-nginx-module words it, the request named in the entry.
    expect(logs[0]?.message).toContain('lua entry thread aborted: runtime error: content(location "/"):1: boom');
    expect(logs[0]).toMatchObject({ phase: 'content', location: '/' });
    expect(logs[0]?.message).toContain('stack traceback:');
    expect(logs[0]?.message).toContain(`content(location "/"):1: in local 'inner'`);
    expect((logs[0]?.err as { cause?: { code?: string } }).cause?.code).toBe('PHASEKIT_ERR_LUA_HANDLER');
    expect((await inject(engine, '/')).body).toBe('fine\n');
    await engine.close();
  });

  it('error() with a table value is logged readably', async () => {
    const { res, logs } = await runContent('error({ code = 42 })');
    expect(res.status).toBe(500);
    expect(logs[0]?.message).toContain('{code = 42}');
  });

  it('a handler stuck in a loop (even inside pcall) is stopped after lua.maxRunMs with a 500; the VM keeps serving', async () => {
    const { engine, logs } = await luaEngine({
      lua: { maxRunMs: 50 },
      locations: [
        { match: '= /spin', content: { lua: 'while true do pcall(function() while true do end end) end' } },
        { match: '= /ok', content: { lua: 'ngx.say("ok")' } },
      ],
    });
    const spin = await inject(engine, '/spin');
    expect(spin.status).toBe(500);
    expect(logs[0]?.message).toContain('Lua CPU time limit exceeded (maxRunMs=50)');
    expect((logs[0]?.err as { cause?: { code?: string } }).cause?.code).toBe('PHASEKIT_ERR_LUA_CPU_LIMIT');
    for (let i = 0; i < 20; i++) expect((await inject(engine, '/ok')).body).toBe('ok\n');
    await engine.close();
  });
});

describe('concurrency', () => {
  it('1,000 concurrent requests each doing ngx.sleep interleave and all answer correctly', async () => {
    const { engine } = await luaEngine({
      locations: [{ match: '/', content: { lua: 'local n = tonumber(ngx.var.arg_n)\nngx.ctx.n = n\nngx.sleep((n % 7) / 1000)\nngx.sleep(0)\nngx.say(ngx.ctx.n * 2)' } }],
    });
    const results = await Promise.all(Array.from({ length: 1000 }, (_, n) => inject(engine, `/?n=${n}`)));
    expect(results.map((r) => r.body)).toEqual(Array.from({ length: 1000 }, (_, n) => `${n * 2}\n`));
    await engine.close();
  });
});

describe('luaFile and require', () => {
  it('luaFile handlers are read relative to lua.prefix and require() finds modules on lua.packagePath', async () => {
    const { engine } = await luaEngine({
      lua: { prefix: fixtures, packagePath: './lua/?.lua;;' },
      locations: [{ match: '/', content: { luaFile: 'content.lua' } }],
    });
    expect((await inject(engine, '/?name=you')).body).toBe('hello, you\n');
    await engine.close();
  });

  it('a missing module raises Lua\'s message listing the paths tried', async () => {
    const { logs } = await runContent('require("nope")', '/', {});
    expect(logs[0]?.message).toContain(`module 'nope' not found:`);
    expect(logs[0]?.message).toContain(`no file '`);
  });

  it('a syntax error in a luaFile names the file and line; a missing file is PHASEKIT_ERR_LUA_FILE', async () => {
    await expect(createEngine({ lua: { prefix: fixtures }, locations: [{ match: '/', content: { luaFile: 'broken.lua' } }] }, { logger: () => undefined }))
      .rejects.toMatchObject({ code: 'PHASEKIT_ERR_LUA_SYNTAX', message: expect.stringMatching(/broken\.lua:2: unexpected symbol near '='/) });
    await expect(createEngine({ lua: { prefix: fixtures }, locations: [{ match: '/', content: { luaFile: 'missing.lua' } }] }, { logger: () => undefined }))
      .rejects.toMatchObject({ code: 'PHASEKIT_ERR_LUA_FILE' });
  });

  it('unpack is table.unpack; requests share one _G (as OpenResty), and a new global warns once', async () => {
    const { engine, logs } = await luaEngine({
      errorLogLevel: 'warn',
      locations: [{ match: '/', content: { lua: 'local a, b = unpack({1, 2}) ngx.say(a + b, " ", tostring(shared)) shared = true' } }],
    });
    expect((await inject(engine, '/')).body).toBe('3 nil\n');
    expect((await inject(engine, '/')).body).toBe('3 true\n');
    const warned = logs.filter((l) => l.message.includes("writing a global Lua variable ('shared')"));
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatchObject({ level: 'warn' });
    expect(warned[0]?.message).toMatch(/^\[lua\] _G write guard:12: __newindex\(\): /);
    await engine.close();
  });
});

describe('lua.codeCache', () => {
  it('off: luaFile handlers and required modules are read again on every request (lua_code_cache off)', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'phasekit-nocache-'));
    writeFileSync(join(dir, 'content.lua'), 'ngx.say("v1 ", require("mod").v)');
    writeFileSync(join(dir, 'mod.lua'), 'return { v = "m1" }');
    const off = await luaEngine({ lua: { prefix: dir, codeCache: false }, locations: [{ match: '/', content: { luaFile: 'content.lua' } }] });
    const on = await luaEngine({ lua: { prefix: dir }, locations: [{ match: '/', content: { luaFile: 'content.lua' } }] });
    expect((await inject(off.engine, '/')).body).toBe('v1 m1\n');
    expect((await inject(on.engine, '/')).body).toBe('v1 m1\n');
    writeFileSync(join(dir, 'content.lua'), 'ngx.say("v2 ", require("mod").v)');
    writeFileSync(join(dir, 'mod.lua'), 'return { v = "m2" }');
    expect((await inject(off.engine, '/')).body).toBe('v2 m2\n');
    expect((await inject(on.engine, '/')).body).toBe('v1 m1\n');
    await off.engine.close();
    await on.engine.close();
  });
});
