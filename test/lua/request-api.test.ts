// Lua ngx.var, ngx.header, ngx.req.*, ngx.resp, ngx.ctx, ngx.status, as lua-nginx-module 0.10.23 behaves.
import { describe, expect, it } from 'vitest';
import { inject } from 'phasekit';
import { luaEngine, luaLocation, runContent } from './helpers.js';

describe('ngx.var', () => {
  it('reads built-ins as strings, missing as nil, captures by number and name', async () => {
    const { engine } = await luaEngine({
      locations: [{
        match: '~ ^/v/(\\w+)/(?<named>\\w+)$',
        content: { lua: 'ngx.say(ngx.var.uri, "|", ngx.var.args, "|", ngx.var.arg_a, "|", type(ngx.var.remote_port), "|", tostring(ngx.var.nope), "|", ngx.var[1], "|", ngx.var.named, "|", ngx.var.http_x_h)' },
      }],
    });
    expect((await inject(engine, { url: '/v/abc/def?a=1', headers: { 'x-h': 'hv' } })).body).toBe('/v/abc/def|a=1|1|string|nil|abc|def|hv\n');
    await engine.close();
  });

  it('writes declared variables (numbers as text), refuses undeclared and read-only ones with nginx\'s messages', async () => {
    const ok = await runContent('ngx.var.foo = 123 ngx.say(ngx.var.foo, type(ngx.var.foo)) ngx.var.foo = 1.5 ngx.say(ngx.var.foo) ngx.var.foo = nil ngx.say(tostring(ngx.var.foo))', '/', { vars: { foo: '' } });
    expect(ok.res.body).toBe('123string\n1.5\nnil\n');
    const bad = await runContent('ngx.var.undeclared_xyz = "1"');
    expect(bad.logs[0]?.message).toContain(`content(location "/"):1: variable "undeclared_xyz" not found for writing; maybe it is a built-in variable that is not changeable or you forgot to use "set $undeclared_xyz '';" in the config file to define it first`);
    const ro = await runContent('ngx.var.uri = "/x"');
    expect(ro.logs[0]?.message).toContain('variable "uri" not changeable');
  });
});

describe('ngx.header and ngx.resp', () => {
  it('sets, reads (case-insensitive, underscores), multi-values as tables, nil clears', async () => {
    const { res } = await runContent(`
      ngx.header.content_type = "application/json"
      ngx.header["Set-Cookie"] = {"a=1", "b=2"}
      ngx.header.X_Num = 12.5
      ngx.header["X-Gone"] = "1"
      ngx.header["X-Gone"] = nil
      local c = ngx.header["set-cookie"]
      ngx.say(ngx.header.CONTENT_TYPE, " ", type(c), " ", c[2], " ", ngx.header.x_num, " ", tostring(ngx.header["X-Gone"]))`);
    expect(res.body).toBe('application/json table b=2 12.5 nil\n');
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.headers['set-cookie']).toEqual(['a=1', 'b=2']);
    expect(res.headers['x-num']).toBe('12.5');
  });

  it('escapes CR/LF in values, as OpenResty does', async () => {
    const { res } = await runContent('ngx.header["X-A"] = "a\\r\\nSet-Cookie: evil=1" ngx.say("x")');
    expect(res.headers['x-a']).toBe('a%0D%0ASet-Cookie: evil=1');
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  it('ngx.resp.get_headers returns lower-cased names', async () => {
    const { res } = await runContent('ngx.header["X-One"] = "1" local h = ngx.resp.get_headers() ngx.say(h["x-one"])');
    expect(res.body).toBe('1\n');
  });

  it('header and status changes after output are logged and ignored', async () => {
    const { res, logs } = await runContent('ngx.say("x") ngx.header["X-Late"] = "1" ngx.status = 404');
    expect(res.status).toBe(200);
    expect(res.headers['x-late']).toBeUndefined();
    expect(logs.map((l) => l.message)).toEqual([
      'attempt to set ngx.header.HEADER after sending out response headers',
      'attempt to set ngx.status after sending out response headers',
    ]);
  });
});

describe('ngx.req', () => {
  it('get_headers: lower-case keys, repeated as tables, any spelling reads, raw keeps case', async () => {
    const { res } = await runContent(`
      local h = ngx.req.get_headers()
      local raw = ngx.req.get_headers(0, true)
      ngx.say(h["x-multi"][1], h["x-multi"][2], " ", h["User-Agent"], " ", h.user_agent, " ", tostring(raw["X-MULTI"]))`,
    { url: '/', headers: { 'x-multi': ['m1', 'm2'], 'user-agent': 'ua' } });
    expect(res.body).toBe('m1m2 ua ua nil\n');
  });

  it('get_uri_args: repeated keys → table, bare keys → true, empty → ""', async () => {
    const { res } = await runContent('local a = ngx.req.get_uri_args() ngx.say(a.a[1], a.a[2], " ", tostring(a.b), " [", a.c, "] ", a.d)', '/?a=1&a=2&b&c=&d=x%20y');
    expect(res.body).toBe('12 true [] x y\n');
  });

  it('set_uri_args with a string or a table; set_header / clear_header; get_method / set_method', async () => {
    const { engine } = await luaLocation({
      rewrite: 'ngx.req.set_uri_args({ q = "a b", t = true }) ngx.req.set_header("X-Set", "v") ngx.req.clear_header("User-Agent") ngx.req.set_method(ngx.HTTP_PUT)',
      content: 'ngx.say(ngx.var.args, " ", ngx.var.http_x_set, " ", tostring(ngx.var.http_user_agent), " ", ngx.req.get_method())',
    });
    const body = (await inject(engine, { url: '/', headers: { 'user-agent': 'ua' } })).body;
    expect(body === 'q=a%20b&t v nil PUT\n' || body === 't&q=a%20b v nil PUT\n').toBe(true);
    await engine.close();
    const bad = await runContent('ngx.req.set_method("PUT")');
    expect(bad.logs[0]?.message).toContain('bad method number');
  });

  it('read_body waits for the body; get_body_data is byte-exact; get_post_args decodes', async () => {
    const { res } = await runContent('ngx.req.read_body() local d = ngx.req.get_body_data() local a = ngx.req.get_post_args() ngx.say(#d, " ", a.x, " ", a.y)', {
      method: 'POST', url: '/', body: 'x=1&y=%C3%A9', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(res.body).toBe('12 1 é\n');
  });

  it('binary request bodies round-trip through Lua untouched', async () => {
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const { res } = await runContent('ngx.req.read_body() ngx.print(ngx.req.get_body_data())', { method: 'POST', url: '/', body: bytes });
    expect(Buffer.compare(res.rawBody, bytes)).toBe(0);
  });

  it('get_post_args before read_body raises OpenResty\'s message', async () => {
    const { logs } = await runContent('ngx.req.get_post_args()', { method: 'POST', url: '/', body: 'a=1' });
    expect(logs[0]?.message).toContain('content(location "/"):1: no request body found; maybe you should turn on lua_need_request_body?');
  });
});

describe('ngx.ctx and ngx.status', () => {
  it('ctx is one table per request, shared by its phases, and may be replaced', async () => {
    const { engine } = await luaLocation({
      rewrite: 'ngx.ctx.n = tonumber(ngx.var.arg_n)',
      access: 'ngx.ctx = { n = ngx.ctx.n * 10 }',
      content: 'ngx.sleep(0) ngx.say(ngx.ctx.n)',
    });
    const [a, b] = await Promise.all([inject(engine, '/?n=1'), inject(engine, '/?n=2')]);
    expect([a.body, b.body]).toEqual(['10\n', '20\n']);
    await engine.close();
  });

  it('a request never sees the ctx table of one before it, whether it reads ngx.ctx or replaces it first', async () => {
    const { engine } = await luaLocation({
      rewrite: 'if ngx.var.arg_replace then ngx.ctx = { fresh = true } end',
      content: 'local seen = tostring(ngx.ctx.n) .. "," .. tostring(ngx.ctx.fresh) ngx.ctx.n = ngx.var.arg_n ngx.say(seen)',
    });
    const bodies: string[] = [];
    for (const url of ['/?n=1', '/?n=2', '/?n=3&replace=1', '/?n=4']) bodies.push((await inject(engine, url)).body);
    const kept = await inject(engine, '/?n=5');
    expect(bodies).toEqual(['nil,nil\n', 'nil,nil\n', 'nil,true\n', 'nil,nil\n']);
    expect(kept.body).toBe('nil,nil\n');
    await engine.close();
  });

  it('status reads 0 before it is set and sets the response status', async () => {
    const { res } = await runContent('local before = ngx.status ngx.status = 201 ngx.say(before)');
    expect(res.status).toBe(201);
    expect(res.body).toBe('0\n');
  });
});

describe('ngx.log and print', () => {
  it('logs with the Lua position, and print logs at notice', async () => {
    const { engine, logs } = await luaEngine({
      errorLogLevel: 'notice',
      locations: [{ match: '/', content: { lua: 'ngx.log(ngx.ERR, "bad ", 42, " ", nil)\nprint("hello")\nngx.log(ngx.INFO, "hidden")' } }],
    });
    await inject(engine, '/');
    expect(logs.map((l) => [l.level, l.message])).toEqual([
      ['error', '[lua] content(location "/"):1: bad 42 nil'],
      ['notice', '[lua] content(location "/"):2: hello'],
    ]);
    await engine.close();
  });
});

describe('subrequests and bodies from Lua', () => {
  it('ngx.location.capture and capture_multi, with args, method, body and a shared ctx', async () => {
    const { engine } = await luaEngine({
      locations: [
        {
          match: '= /main',
          content: {
            lua: `
              local shared = { from = "parent" }
              local res = ngx.location.capture("/echo", { method = ngx.HTTP_POST, body = "payload", args = { q = "1" }, ctx = shared })
              ngx.say(res.status, " ", res.header["X-Echo"], " ", res.body, " ", shared.child)
              local a, b = ngx.location.capture_multi({ { "/echo" }, { "/nope" } })
              ngx.say(a.status, " ", b.status, " ", tostring(ngx.is_subrequest))`,
          },
        },
        {
          match: '= /echo',
          internal: true,
          content: { lua: 'ngx.req.read_body() ngx.ctx.child = "saw " .. tostring(ngx.ctx.from) ngx.header["X-Echo"] = "1" ngx.print(ngx.req.get_method(), ":", ngx.var.args, ":", ngx.req.get_body_data(), ":", tostring(ngx.is_subrequest))' },
        },
      ],
    });
    expect((await inject(engine, '/main')).body).toBe('200 1 POST:q=1:payload:true saw parent\n200 404 false\n');
    await engine.close();
  });

  it('set_body_data, init_body/append_body/finish_body, discard_body', async () => {
    const { res } = await runContent(`
      ngx.req.read_body()
      local a = ngx.req.get_body_data()
      ngx.req.set_body_data("replaced")
      local b = ngx.req.get_body_data()
      ngx.req.init_body() ngx.req.append_body("x") ngx.req.append_body("y") ngx.req.finish_body()
      local c = ngx.req.get_body_data()
      ngx.req.discard_body()
      ngx.say(a, " ", b, " ", c, " ", tostring(ngx.req.get_body_data()))`, { method: 'POST', url: '/', body: 'orig' });
    expect(res.body).toBe('orig replaced xy nil\n');
  });
});

describe('request body limits from Lua', () => {
  it('read_body over clientMaxBodySize answers 413, as in TypeScript', async () => {
    const { engine } = await luaEngine({ clientMaxBodySize: 10, locations: [{ match: '/', content: { lua: 'ngx.req.read_body() ngx.say("read")' } }] });
    const res = await inject(engine, { method: 'POST', url: '/', body: 'x'.repeat(11) });
    expect(res.status).toBe(413);
    await engine.close();
  });
});
