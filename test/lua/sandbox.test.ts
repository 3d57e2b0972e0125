// The Lua sandbox's LuaJIT/5.1 additions that have no nginx counterpart to record against:
// read-only io under lua.prefix, os.getenv through lua.env, debug.getupvalue / upvaluejoin and
// setfenv / getfenv limited to handler code, and the ffi subset's errors.
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { inject } from 'phasekit';
import { luaEngine } from './helpers.js';

const PREFIX = fileURLToPath(new URL('./fixtures/prefix', import.meta.url));
process.env.PHASEKIT_TEST_ALLOWED = 'visible';
process.env.PHASEKIT_TEST_HIDDEN = 'hidden';
afterAll(() => {
  delete process.env.PHASEKIT_TEST_ALLOWED;
  delete process.env.PHASEKIT_TEST_HIDDEN;
});

async function run(lua: string, env?: string[]) {
  const { engine, logs } = await luaEngine({ lua: { prefix: PREFIX, ...(env ? { env } : {}) }, locations: [{ match: '/', content: { lua } }] });
  const res = await inject(engine, '/');
  await engine.close();
  return { body: res.body, logs };
}

describe('io (read-only, under lua.prefix)', () => {
  it('opens and reads files with the read formats, lines, seek and close', async () => {
    const { body } = await run(`
      local f = assert(io.open("data.txt"))
      ngx.say(io.type(f), " ", f:read("*l"), "|", f:read("L") == "second line\\n", "|", f:read("n"), " ", f:read("*n"))
      f:seek("set", 6)
      ngx.say(f:read(4), "|", f:read("a"), "|", tostring(f:read("l")), "|", f:read(0) == nil)
      f:close()
      ngx.say(io.type(f), " ", pcall(f.read, f))
      local n = 0
      for line in io.lines("data.txt") do n = n + 1 end
      local g = assert(io.open("${PREFIX}/data.txt", "rb"))
      local count = 0
      for a in g:lines(5) do count = count + 1 end
      ngx.say(n, " ", count, " ", tostring(io.type(42)))`);
    expect(body).toBe('file first line|true|42 7.5\nline|\nsecond line\n42 7.5\nlast|nil|true\nclosed file falseattempt to use a closed file\n4 7 nil\n');
  });

  it('answers nil, message, errno for missing files and files outside lua.prefix', async () => {
    const { body } = await run(`
      ngx.say(io.open("missing.txt"))
      ngx.say(io.open("../sandbox.test.ts"))
      ngx.say(io.open("/etc/hostname"))`);
    expect(body).toBe('nilmissing.txt: No such file or directory2\nnil../sandbox.test.ts: Permission denied (outside lua.prefix)13\nnil/etc/hostname: Permission denied (outside lua.prefix)13\n');
  });

  it('refuses a link that leads outside lua.prefix', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'pk-io-out-'));
    const prefix = mkdtempSync(join(tmpdir(), 'pk-io-'));
    try {
      writeFileSync(join(outside, 'secret.txt'), 'secret');
      symlinkSync(join(outside, 'secret.txt'), join(prefix, 'link.txt'));
      writeFileSync(join(prefix, 'ok.txt'), 'ok');
      const { engine } = await luaEngine({ lua: { prefix }, locations: [{ match: '/', content: { lua: 'ngx.say(io.open("link.txt")) ngx.say(io.open("ok.txt"):read("a"))' } }] });
      expect((await inject(engine, '/')).body).toBe('nillink.txt: Permission denied (outside lua.prefix)13\nok\n');
      await engine.close();
    } finally {
      rmSync(outside, { recursive: true, force: true });
      rmSync(prefix, { recursive: true, force: true });
    }
  });

  it('refuses writing with an error naming the rule', async () => {
    const { body } = await run(`
      ngx.say(select(2, pcall(io.open, "new.txt", "w")))
      ngx.say(select(2, pcall(io.write, "x")))
      ngx.say(select(2, pcall(io.popen, "ls")))
      local f = io.open("data.txt")
      ngx.say(select(2, pcall(f.write, f, "x")))`);
    expect(body).toBe([
      "bad argument #2 to 'open' (mode 'w' is not allowed: phasekit's io only reads files under lua.prefix)",
      "io.write is not available: phasekit's io only reads files under lua.prefix",
      "io.popen is not available: phasekit's io only reads files under lua.prefix",
      "file:write is not available: phasekit's io only reads files under lua.prefix",
      '',
    ].join('\n'));
  });
});

describe('os.getenv', () => {
  it('reads only the names lua.env allows (NAME=value sets one), like nginx\'s env directive', async () => {
    const lua = 'ngx.say(tostring(os.getenv("PHASEKIT_TEST_ALLOWED")), " ", tostring(os.getenv("PHASEKIT_TEST_HIDDEN")), " ", tostring(os.getenv("SET_HERE")))';
    expect((await run(lua, ['PHASEKIT_TEST_ALLOWED', 'SET_HERE=given'])).body).toBe('visible nil given\n');
    expect((await run(lua)).body).toBe('nil nil nil\n');
  });

  it('rejects a malformed lua.env entry at config time', async () => {
    await expect(luaEngine({ lua: { env: ['not a name'] }, locations: [] })).rejects.toThrow(/NAME or NAME=value/);
  });
});

describe('debug.getupvalue / upvaluejoin, setfenv / getfenv', () => {
  it('work on handler functions (etlua-style environment swap)', async () => {
    const { body } = await run(`
      local secret = "mine"
      local function f() return secret, x end
      ngx.say(debug.getupvalue(f, 1))
      local env = { x = "joined" }
      local g = load("return function() return x end", "=g", "t", env)()
      local h = function() return x end
      local i = 1
      while debug.getupvalue(h, i) ~= "_ENV" do i = i + 1 end
      debug.upvaluejoin(h, i, g, 1)
      ngx.say(h())
      setfenv(1, setmetatable({ y = "level one" }, { __index = _G }))
      ngx.say(y)`);
    expect(body).toBe('secretmine\njoined\nlevel one\n');
  });

  it('keep the upvalues of trusted code and C functions private', async () => {
    const { body } = await run(`
      ngx.say(tostring(debug.getupvalue(require, 1)), " ", tostring(debug.getupvalue(pcall, 1)), " ", tostring(debug.getupvalue(require("resty.lrucache").new, 1)))
      ngx.say(select(2, pcall(debug.upvaluejoin, function() return ngx end, 1, require, 1)))
      ngx.say(getfenv(require) == _G, " ", select(2, pcall(setfenv, require, {})))`);
    expect(body).toBe("nil nil nil\nbad argument #3 to 'upvaluejoin' (function of trusted code)\ntrue 'setfenv' cannot change environment of given object\n");
  });
});

describe('ffi subset errors', () => {
  it('names the symbol or type it does not provide', async () => {
    const { body } = await run(`
      local ffi = require "ffi"
      ffi.cdef[[ int EVP_MD_size(const void *md); struct opaque_s; ]]
      ngx.say(select(2, pcall(function() return ffi.C.EVP_MD_size end)))
      ngx.say(select(2, pcall(ffi.new, "struct nope_t")))
      ngx.say(select(2, pcall(ffi.new, "no_such_type")))
      ngx.say(select(2, pcall(ffi.load, "libfoo.so")))
      ngx.say(select(2, pcall(ffi.new, "struct opaque_s")))
      local p = ffi.cast("const char *", "ro")
      ngx.say(select(2, pcall(function() p[0] = 1 end)))`);
    expect(body).toBe([
      `content(location "/"):4: phasekit's ffi does not provide the C function 'EVP_MD_size' (no native code runs in the Lua sandbox)`,
      "cannot allocate an incomplete 'struct nope_t'",
      "unknown C type 'no_such_type'",
      "phasekit's ffi cannot load native library 'libfoo.so' (no native code runs in the Lua sandbox)",
      "cannot allocate an incomplete 'struct opaque_s'",
      'attempt to write to constant location',
      '',
    ].join('\n'));
  });
});
