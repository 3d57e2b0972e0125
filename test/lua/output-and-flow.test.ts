// Lua ngx.say/print/exit/exec/redirect and the request state machine, as lua-nginx-module 0.10.23 behaves.
import { describe, expect, it } from 'vitest';
import { inject } from 'phasekit';
import { luaEngine, luaLocation, runContent } from './helpers.js';

describe('ngx.say / ngx.print', () => {
  it('formats values as OpenResty: integers bare, floats %.14g, nil, booleans, ngx.null, nested arrays', async () => {
    const { res } = await runContent('ngx.say(10534, " ", 1.5, " ", 2^53, " ", 1/3, " ", nil, " ", true, " ", ngx.null, " ", {"a", {"b", 1}}) ngx.print("x", 2.0)');
    expect(res.body).toBe('10534 1.5 9.007199254741e+15 0.33333333333333 nil true null ab1\nx2');
  });

  it('a hash table or a function is a bad argument (500, logged at the caller line)', async () => {
    const hash = await runContent('ngx.say({a = 1})');
    expect(hash.res.status).toBe(500);
    expect(hash.logs[0]?.message).toContain(`content(location "/"):1: bad argument #1 to 'say' (non-array table found)`);
    const fn = await runContent('ngx.print("x", print)');
    expect(fn.logs[0]?.message).toContain("bad argument #2 to 'print' (string, number, boolean, nil, ngx.null, or array table expected, but got function)");
  });

  it('say returns 1', async () => {
    expect((await runContent('local ok = ngx.say("a") ngx.say(ok)')).res.body).toBe('a\n1\n');
  });
});

describe('ngx.exit in Lua', () => {
  it('unwinds the handler: code after it does not run', async () => {
    const { res } = await runContent('ngx.say("before") ngx.exit(200) ngx.say("after")');
    expect(res.body).toBe('before\n');
  });

  it('exit(OK) in rewrite and access goes on; exit(403) in access serves the page and runs filters and log', async () => {
    const { engine } = await luaLocation({
      rewrite: 'ngx.ctx.seen = "r" ngx.exit(ngx.OK)',
      access: 'ngx.ctx.seen = ngx.ctx.seen .. "a" if ngx.var.arg_deny then ngx.exit(ngx.HTTP_FORBIDDEN) end',
      content: 'ngx.say(ngx.ctx.seen, "c")',
      headerFilter: 'ngx.header["X-Status"] = ngx.status',
      log: 'ngx.shared.d:set("last", ngx.var.status)',
    }, { sharedDicts: { d: '1m' } });
    expect((await inject(engine, '/')).body).toBe('rac\n');
    const denied = await inject(engine, '/?deny=1');
    expect(denied.status).toBe(403);
    expect(denied.headers['x-status']).toBe('403');
    expect(engine.sharedDicts.d?.get('last')).toBe('403');
    await engine.close();
  });

  it('exit works inside pcall (a yield, not an error) and inside nested functions', async () => {
    const { res } = await runContent('local function f() ngx.exit(404) end pcall(f) ngx.say("not reached")');
    expect(res.status).toBe(404);
  });

  it('exit(ngx.ERROR) closes the connection; exit in header_filter returns and replaces the response', async () => {
    expect((await runContent('ngx.exit(ngx.ERROR)')).res.aborted).toBe(true);
    const { engine } = await luaLocation({ content: 'ngx.say("body")', headerFilter: 'ngx.exit(200) ngx.header["X-After"] = "ran"' });
    const res = await inject(engine, '/');
    expect(res.body).toBe('');
    expect(res.headers['x-after']).toBe('ran');
    await engine.close();
  });

  it('a non-number status is a bad argument', async () => {
    const { res, logs } = await runContent('ngx.exit("403")');
    expect(res.status).toBe(500);
    expect(logs[0]?.message).toContain("bad argument #1 to 'exit' (number expected, got string)");
  });
});

describe('ngx.exec / ngx.redirect in Lua', () => {
  it('exec restarts in another location with a fresh ngx.ctx and the given args', async () => {
    const { engine } = await luaEngine({
      locations: [
        { match: '/a', content: { lua: 'ngx.ctx.x = 1 ngx.exec("/b", "q=1") ngx.say("not reached")' } },
        { match: '/b', content: { lua: 'ngx.say(ngx.var.uri, " ", ngx.var.args, " ", tostring(ngx.ctx.x))' } },
      ],
    });
    expect((await inject(engine, '/a')).body).toBe('/b q=1 nil\n');
    await engine.close();
  });

  it('redirect answers with Location and unwinds; a bad status raises OpenResty\'s message', async () => {
    const ok = await runContent('ngx.redirect("/next", 301) ngx.say("x")');
    expect(ok.res.status).toBe(301);
    expect(ok.res.headers.location).toBe('/next');
    const bad = await runContent('ngx.redirect("/next", 200)');
    expect(bad.logs[0]?.message).toContain('content(location "/"):1: only ngx.HTTP_MOVED_TEMPORARILY');
    const crlf = await runContent('ngx.redirect("/foo\\r\\nX-Injected: 1")');
    expect(crlf.res.status).toBe(500);
    expect(crlf.logs[0]?.message).toContain('unsafe byte "0x0d" in redirect uri "/foo\\x0D\\x0AX-Injected: 1"');
  });
});

describe('phase rules in Lua', () => {
  it.each([
    ['headerFilter', 'header_filter_by_lua*'],
    ['bodyFilter', 'body_filter_by_lua*'],
    ['log', 'log_by_lua*'],
  ] as const)('ngx.say in %s raises "API disabled in the context of %s" at the caller line', async (phase, context) => {
    const { engine, logs } = await luaLocation({ content: 'ngx.say("c")', [phase]: 'local ok, err = pcall(function() ngx.say("x") end) ngx.log(ngx.ERR, err)' });
    await inject(engine, '/');
    const chunk = { headerFilter: 'header_filter', bodyFilter: 'body_filter', log: 'log' }[phase];
    expect(logs.map((l) => l.message)).toContain(`[lua] ${chunk}(location "/"):1: ${chunk}(location "/"):1: API disabled in the context of ${context}`);
    await engine.close();
  });

  it('ngx.get_phase names the phase', async () => {
    const { engine } = await luaLocation({
      rewrite: 'ngx.ctx.p = { ngx.get_phase() }',
      access: 'table.insert(ngx.ctx.p, ngx.get_phase())',
      content: 'table.insert(ngx.ctx.p, ngx.get_phase()) ngx.say(table.concat(ngx.ctx.p, ","))',
    });
    expect((await inject(engine, '/')).body).toBe('rewrite,access,content\n');
    await engine.close();
  });

  it('ngx.sleep is refused in header_filter and works in content without blocking others', async () => {
    const { engine, logs } = await luaLocation({ content: 'ngx.sleep(0.01) ngx.say("slept")', headerFilter: 'local ok, err = pcall(ngx.sleep, 0) if not ok then ngx.log(ngx.ERR, err) end' });
    expect((await inject(engine, '/')).body).toBe('slept\n');
    expect(logs.map((l) => l.message).join('\n')).toContain('API disabled in the context of header_filter_by_lua*');
    await engine.close();
  });
});

describe('set_by_lua and body_filter ngx.arg', () => {
  it('set handlers get args as ngx.arg and ..., and return the value', async () => {
    const { engine } = await luaEngine({
      locations: [{
        match: '/',
        vars: { sum: '' },
        set: [{ var: 'sum', lua: 'local a, b = ... return tonumber(ngx.arg[1]) + tonumber(b)', args: ['$arg_a', '2'] }],
        content: { lua: 'ngx.say(ngx.var.sum)' },
      }],
    });
    expect((await inject(engine, '/?a=40')).body).toBe('42\n');
    await engine.close();
  });

  it('body_filter reads and rewrites ngx.arg[1], sees ngx.arg[2] (eof), and may return ngx.ERROR', async () => {
    const { engine } = await luaLocation({ content: 'ngx.say("hello")', bodyFilter: 'ngx.arg[1] = ngx.arg[1]:upper() .. tostring(ngx.arg[2])' });
    const res = await inject(engine, '/');
    // One call per ngx.say (eof false), then "" with eof true: nginx's sequence.
    expect(res.body).toBe('HELLO\nfalsetrue');
    expect(res.headers['content-length']).toBe('15');
    await engine.close();
    const err = await luaLocation({ content: 'ngx.say("x")', bodyFilter: 'return ngx.ERROR' });
    expect((await inject(err.engine, '/')).aborted).toBe(true);
    await err.engine.close();
  });
});

describe('streaming from Lua', () => {
  it('ngx.flush(true) sends a chunk and waits; body_filter sees each chunk; eof ends the body', async () => {
    const { engine } = await luaLocation({
      content: 'ngx.say("a") ngx.flush(true) ngx.say(tostring(ngx.headers_sent)) ngx.flush() ngx.say("b") ngx.eof() ngx.say("never")',
      bodyFilter: 'ngx.arg[1] = "[" .. ngx.arg[1] .. tostring(ngx.arg[2]) .. "]"',
    });
    const res = await inject(engine, '/');
    // Each say is a call, each flush a call with "", eof a last call with "" and eof = true.
    expect(res.body).toBe('[a\nfalse][false][true\nfalse][false][b\nfalse][true]');
    expect(res.headers['transfer-encoding']).toBe('chunked');
    await engine.close();
  });

  it('ngx.send_headers runs header_filter before the body', async () => {
    const { engine } = await luaLocation({ content: 'ngx.send_headers() ngx.say("x")', headerFilter: 'ngx.header["X-Sent"] = "early"' });
    const res = await inject(engine, '/');
    expect(res.headers['x-sent']).toBe('early');
    expect(res.body).toBe('x\n');
    await engine.close();
  });
});
