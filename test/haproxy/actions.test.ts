// Actions: act.* return codes in http-req (access) and http-res (header_filter), TXN, HTTP, variables, done.
import { describe, expect, it } from 'vitest';
import { ACT, createClock, createEngine, inject } from 'phasekit';
import { hxEngine, messages } from './helpers.js';

const CODES = `
for _, name in ipairs({ "CONTINUE", "STOP", "YIELD", "ERROR", "DONE", "DENY", "ABORT", "INVALID" }) do
  core.register_action(name:lower(), { "http-req", "http-res" }, function(txn)
    local seen = txn:get_var("txn.seen") or ""
    txn:set_var("txn.seen", seen .. name:lower() .. ",")
    return act[name]
  end)
end
core.register_action("odd", { "http-req", "http-res" }, function(txn) return 42 end)
core.register_action("nil", { "http-req" }, function(txn) end)
core.register_action("exit401", { "http-req" }, function(txn) return ngx.exit(401) end)`;

const own = {
  access: { lua: 'ngx.ctx.access = true' },
  content: { lua: 'ngx.say("seen=", ngx.var.txn_seen, " access=", tostring(ngx.ctx.access))' },
};

describe('http-req actions (access phase, before the location access handler)', () => {
  it('act.DENY answers 403; act.ERROR 500; act.INVALID 400; act.ABORT closes the connection', async () => {
    const { engine } = await hxEngine({ 'a.lua': CODES }, {
      locations: [
        { match: '= /deny', actions: { 'http-req': ['lua.continue', 'lua.deny', 'lua.continue'] }, ...own },
        { match: '= /error', actions: { 'http-req': ['lua.error'] }, ...own },
        { match: '= /invalid', actions: { 'http-req': ['lua.invalid'] }, ...own },
        { match: '= /abort', actions: { 'http-req': ['lua.abort'] }, ...own },
      ],
    });
    const deny = await inject(engine, '/deny');
    expect(deny.status).toBe(403);
    expect(deny.body).toContain('403 Forbidden');
    expect((await inject(engine, '/error')).status).toBe(500);
    expect((await inject(engine, '/invalid')).status).toBe(400);
    expect((await inject(engine, '/abort')).aborted).toBe(true);
    await engine.close();
  });

  it('CONTINUE (or nothing) goes on; STOP skips the rest of the list; DONE skips the rest and the access handler', async () => {
    const { engine } = await hxEngine({ 'a.lua': CODES }, {
      locations: [
        { match: '= /continue', actions: { 'http-req': ['lua.continue', 'lua.nil', 'lua.continue'] }, ...own },
        { match: '= /stop', actions: { 'http-req': ['lua.continue', 'lua.stop', 'lua.deny'] }, ...own },
        { match: '= /done', actions: { 'http-req': ['lua.done', 'lua.deny'] }, ...own },
      ],
    });
    expect((await inject(engine, '/continue')).body).toBe('seen=continue,continue, access=true\n');
    expect((await inject(engine, '/stop')).body).toBe('seen=continue,stop, access=true\n');
    expect((await inject(engine, '/done')).body).toBe('seen=done, access=nil\n');
    await engine.close();
  });

  it('an unknown code is logged and answers 500; ngx.exit in an action ends the request there', async () => {
    const { engine, logs } = await hxEngine({ 'a.lua': CODES }, {
      locations: [
        { match: '= /odd', actions: { 'http-req': ['lua.odd'] }, ...own },
        { match: '= /exit', actions: { 'http-req': ['lua.exit401', 'lua.deny'] }, ...own },
      ],
    });
    expect((await inject(engine, '/odd')).status).toBe(500);
    expect(messages(logs)).toContain('action "lua.odd" returned an unknown code 42');
    expect((await inject(engine, '/exit')).status).toBe(401);
    await engine.close();
  });

  it('act.YIELD runs the action again after act:wake_time(ms)', async () => {
    const clock = createClock();
    const { engine } = await hxEngine(
      {
        'y.lua': `
core.register_action("poll", { "http-req" }, function(txn)
  local n = (txn:get_priv() or 0) + 1
  txn:set_priv(n)
  if n < 3 then act:wake_time(50) return act.YIELD end
  txn:set_var("txn.tries", n)
end)`,
      },
      { locations: [{ match: '/', actions: { 'http-req': ['lua.poll'] }, content: { lua: 'ngx.say(ngx.var.txn_tries)' } }] },
      { clock },
    );
    const pending = inject(engine, '/');
    await clock.tick(50);
    await clock.tick(50);
    expect((await pending).body).toBe('3\n');
    await engine.close();
  });
});

describe('concurrency', () => {
  it('300 concurrent transactions that wait in their actions keep their own TXN, priv and variables', async () => {
    const { engine } = await hxEngine(
      {
        'c.lua': `
core.register_action("mine", { "http-req" }, function(txn)
  local n = tonumber(txn.sf:url_param("n"))
  txn:set_priv(n)
  core.msleep(n % 5)
  core.yield()
  txn:set_var("txn.n", txn:get_priv() * 2)
end)
core.register_service("show", "http", function(applet)
  applet:start_response()
  applet:send(applet:get_var("txn.n"))
end)`,
      },
      { locations: [{ match: '/', actions: { 'http-req': ['lua.mine'] }, service: 'lua.show' }] },
    );
    const results = await Promise.all(Array.from({ length: 300 }, (_, n) => inject(engine, `/?n=${n}`)));
    expect(results.map((r) => r.body)).toEqual(Array.from({ length: 300 }, (_, n) => String(n * 2)));
    await engine.close();
  });
});

describe('http-res actions (header_filter, before the location headerFilter)', () => {
  it('DENY replaces the response with a 502; STOP and DONE as in http-req', async () => {
    const { engine } = await hxEngine({ 'a.lua': CODES }, {
      locations: [
        { match: '= /deny', actions: { 'http-res': ['lua.deny'] }, content: { lua: 'ngx.say("secret")' } },
        { match: '= /stop', actions: { 'http-res': ['lua.stop', 'lua.deny'] }, content: { lua: 'ngx.say("ok")' }, headerFilter: { lua: 'ngx.header["x-own"] = "yes"' } },
        { match: '= /done', actions: { 'http-res': ['lua.done', 'lua.deny'] }, content: { lua: 'ngx.say("ok")' }, headerFilter: { lua: 'ngx.header["x-own"] = "yes"' } },
        { match: '= /abort', actions: { 'http-res': ['lua.abort'] }, content: { lua: 'ngx.say("ok")' } },
      ],
    });
    const deny = await inject(engine, '/deny');
    expect(deny.status).toBe(502);
    expect(deny.body).not.toContain('secret');
    const stop = await inject(engine, '/stop');
    expect([stop.status, stop.body, stop.headers['x-own']]).toEqual([200, 'ok\n', 'yes']);
    const done = await inject(engine, '/done');
    expect([done.status, done.body, done.headers['x-own']]).toEqual([200, 'ok\n', undefined]);
    expect((await inject(engine, '/abort')).aborted).toBe(true);
    await engine.close();
  });
});

describe('TXN.http', () => {
  it('req_get_headers() is zero-based; req_set/add/del/rep_header change what later phases see', async () => {
    const { engine } = await hxEngine(
      {
        'h.lua': `
core.register_action("hdrs", { "http-req" }, function(txn)
  local h = txn.http:req_get_headers()
  txn:set_var("txn.accept", h["accept"][0] .. "|" .. h["accept"][1] .. "|" .. tostring(h["accept"][2]) .. "|" .. #h["accept"])
  txn.http:req_set_header("x-set", "one")
  txn.http:req_add_header("x-add", "a")
  txn.http:req_add_header("x-add", "b")
  txn.http:req_del_header("x-gone")
  txn.http:req_rep_header("cookie", "^(.*)SID=([^;]*)(.*)$", "\\\\1sid=\\\\2\\\\3")
end)`,
      },
      {
        locations: [
          {
            match: '/',
            actions: { 'http-req': ['lua.hdrs'] },
            content: {
              lua: `local h = ngx.req.get_headers()
ngx.say(ngx.var.txn_accept)
ngx.say(h["x-set"], " ", table.concat(h["x-add"], ","), " ", tostring(h["x-gone"]), " ", h["cookie"])`,
            },
          },
        ],
      },
    );
    const res = await inject(engine, { url: '/', headers: { accept: ['text/html', 'text/plain'], 'x-gone': '1', cookie: 'a=1; SID=42; b=2' } });
    expect(res.body).toBe('text/html|text/plain|nil|1\none a,b nil a=1; sid=42; b=2\n');
    await engine.close();
  });

  it('req_set_method/path/query/uri rewrite the request; res_* headers and res_set_status in http-res', async () => {
    const { engine } = await hxEngine(
      {
        'h.lua': `
core.register_action("rewrite", { "http-req" }, function(txn, how)
  if how == "uri" then txn.http:req_set_uri("/new/uri?x=1")
  else txn.http:req_set_method("POST") txn.http:req_set_path("/p") txn.http:req_set_query("q=2") end
end, 1)
core.register_action("resp", { "http-res" }, function(txn)
  local h = txn.http:res_get_headers()
  txn.http:res_set_header("x-was", h["x-a"][0] .. "/" .. h["x-a"][1])
  txn.http:res_add_header("x-b", "2")
  txn.http:res_del_header("x-gone")
  txn.http:res_rep_header("x-ver", "^v(\\\\d+)$", "version \\\\1")
  txn.http:res_set_status(202, "Accepted!")
end)`,
      },
      {
        locations: [
          { match: '/m', actions: { 'http-req': ['lua.rewrite(fields)'] }, content: { lua: 'ngx.say(ngx.req.get_method(), " ", ngx.var.uri, " ", ngx.var.args)' } },
          { match: '/u', actions: { 'http-req': ['lua.rewrite(uri)'] }, content: { lua: 'ngx.say(ngx.var.uri, " ", ngx.var.args)' } },
          {
            match: '/r',
            actions: { 'http-res': ['lua.resp'] },
            content: { lua: 'ngx.header["x-a"] = { "1", "2" }\nngx.header["x-b"] = "1"\nngx.header["x-gone"] = "x"\nngx.header["x-ver"] = "v7"\nngx.say("r")' },
          },
        ],
      },
    );
    expect((await inject(engine, '/m')).body).toBe('POST /p q=2\n');
    expect((await inject(engine, '/u')).body).toBe('/new/uri x=1\n');
    const r = await inject(engine, '/r');
    expect(r.status).toBe(202);
    expect([r.headers['x-was'], r.headers['x-b'], r.headers['x-gone'], r.headers['x-ver']]).toEqual(['1/2', ['1', '2'], undefined, 'version 7']);
    await engine.close();
  });
});

describe('TXN variables', () => {
  it('txn.NAME is $txn_NAME for ngx.var, both ways; types survive; unset_var; bad names raise', async () => {
    const { engine, logs } = await hxEngine(
      {
        'v.lua': `
core.register_action("vars", { "http-req" }, function(txn)
  txn:set_var("txn.user", "bob")
  txn:set_var("req.count", 41)
  txn:set_var("txn.gone", "x")
  txn:unset_var("txn.gone")
  txn:set_var("txn.skipped", "x", true)
  txn:set_var("txn.declared", "set", true)
  local c = txn:get_var("req.count")
  txn:set_var("txn.kind", math.type(c) .. " " .. tostring(c + 1))
end)
core.register_action("read", { "http-res" }, function(txn)
  txn.http:res_set_header("x-user", txn:get_var("txn.user"))
end)
core.register_action("badname", { "http-req" }, function(txn) txn:set_var("nope", 1) end)`,
      },
      {
        locations: [
          {
            match: '= /',
            vars: { txn_declared: 'initial' },
            actions: { 'http-req': ['lua.vars'], 'http-res': ['lua.read'] },
            content: {
              lua: `ngx.say(ngx.var.txn_user, " ", ngx.var.req_count, " ", tostring(ngx.var.txn_gone), " ", tostring(ngx.var.txn_skipped), " ", ngx.var.txn_declared, " ", ngx.var.txn_kind)
ngx.var.txn_user = "carol"`,
            },
          },
          { match: '= /bad', actions: { 'http-req': ['lua.badname'] } },
        ],
      },
    );
    const res = await inject(engine, '/');
    expect(res.body).toBe('bob 41 nil nil set integer 42\n');
    expect(res.headers['x-user']).toBe('carol');
    expect((await inject(engine, '/bad')).status).toBe(500);
    expect(logs[0]?.message).toContain('bad variable name "nope": expected scope.name with scope proc, sess, txn, req or res');
    await engine.close();
  });

  it('proc.* variables live as long as the generation; txn.* ones as long as the request', async () => {
    const { engine } = await hxEngine(
      {
        'v.lua': `
core.register_action("count", { "http-req" }, function(txn)
  txn:set_var("proc.hits", (txn:get_var("proc.hits") or 0) + 1)
  txn:set_var("txn.mine", (txn:get_var("txn.mine") or 0) + 1)
  return txn:done({ status = 200, body = txn:get_var("proc.hits") .. "/" .. txn:get_var("txn.mine") })
end)`,
      },
      { locations: [{ match: '/', actions: { 'http-req': ['lua.count'] } }] },
    );
    expect((await inject(engine, '/')).body).toBe('1/1');
    expect((await inject(engine, '/')).body).toBe('2/1');
    await engine.close();
  });
});

describe('txn:done()', () => {
  it('with a reply table or Reply object answers it; without one closes the connection; later actions do not run', async () => {
    const { engine } = await hxEngine(
      {
        'd.lua': `
core.register_action("table", { "http-req" }, function(txn)
  txn:done({ status = 418, reason = "Teapot", headers = { ["x-a"] = { "1", "2" }, ["content-type"] = "text/tea" }, body = "short and stout" })
  error("not reached")
end)
core.register_action("object", { "http-req" }, function(txn)
  local reply = txn:reply({ status = 400 })
  reply:add_header("cache-control", "no-cache")
  reply:add_header("cache-control", "no-store")
  reply:set_body("bad")
  txn:done(reply)
end)
core.register_action("close", { "http-req" }, function(txn) txn:done() end)
core.register_action("mark", { "http-req" }, function(txn) txn.http:req_set_header("x-mark", "1") end)`,
      },
      {
        locations: [
          { match: '= /table', actions: { 'http-req': ['lua.table', 'lua.mark'] }, content: { lua: 'ngx.say("content")' } },
          { match: '= /object', actions: { 'http-req': ['lua.object'] }, content: { lua: 'ngx.say("content")' } },
          { match: '= /close', actions: { 'http-req': ['lua.close'] }, content: { lua: 'ngx.say("content")' } },
        ],
      },
    );
    const t = await inject(engine, '/table');
    expect([t.status, t.headers['x-a'], t.headers['content-type'], t.body]).toEqual([418, ['1', '2'], 'text/tea', 'short and stout']);
    const o = await inject(engine, '/object');
    expect([o.status, o.headers['cache-control'], o.body]).toEqual([400, ['no-cache', 'no-store'], 'bad']);
    expect((await inject(engine, '/close')).aborted).toBe(true);
    await engine.close();
  });

  it('in http-res: a reply gives its status and headers (with the status page); no reply closes the connection', async () => {
    const { engine } = await hxEngine(
      {
        'd.lua': `
core.register_action("forbid", { "http-res" }, function(txn)
  txn:done({ status = 403, headers = { ["x-why"] = "policy" }, body = "not sent" })
end)
core.register_action("cut", { "http-res" }, function(txn) txn:done() end)`,
      },
      {
        locations: [
          { match: '= /forbid', actions: { 'http-res': ['lua.forbid'] }, content: { lua: 'ngx.say("secret")' } },
          { match: '= /cut', actions: { 'http-res': ['lua.cut'] }, content: { lua: 'ngx.say("secret")' } },
        ],
      },
    );
    const f = await inject(engine, '/forbid');
    expect([f.status, f.headers['x-why'], f.body.includes('403 Forbidden'), f.body.includes('secret')]).toEqual([403, 'policy', true, false]);
    expect((await inject(engine, '/cut')).aborted).toBe(true);
    await engine.close();
  });

  it('priv data is per transaction, shared by its actions; txn:Info logs with the request', async () => {
    const { engine, logs } = await hxEngine(
      {
        'p.lua': `
core.register_action("put", { "http-req" }, function(txn) txn:set_priv({ n = (txn:get_priv() or { n = 0 }).n + 1 }) end)
core.register_action("get", { "http-req" }, function(txn) txn:Info("priv " .. txn:get_priv().n) end)`,
      },
      { locations: [{ match: '/', actions: { 'http-req': ['lua.put', 'lua.get'] }, content: { lua: 'ngx.say("ok")' } }] },
    );
    await inject(engine, '/a');
    await inject(engine, '/b');
    expect(messages(logs)).toEqual(['priv 1', 'priv 1']);
    expect(logs[0]?.request).toBe('GET /a HTTP/1.1');
    await engine.close();
  });
});

describe('TypeScript actions', () => {
  it('return ACT codes (or promises of them in http-req); a promise in http-res is an error', async () => {
    const logs: string[] = [];
    const engine = await createEngine(
      {
        locations: [
          { match: '= /deny', actions: { 'http-req': ['lua.gate'] }, content: () => 'unreachable' },
          { match: '= /async', actions: { 'http-req': ['lua.later(7)'] }, content: (ngx) => ngx.say(ngx.var.txn_later) },
          { match: '= /res', actions: { 'http-res': ['lua.later(1)'] }, content: (ngx) => ngx.say('x') },
        ],
      },
      {
        logger: (e) => logs.push(e.message),
        haproxy: {
          actions: {
            gate: { on: ['http-req'], fn: (txn) => (txn.ngx.req.getHeaders()['x-key'] === undefined ? ACT.DENY : ACT.CONTINUE) },
            later: {
              on: ['http-req', 'http-res'],
              nbArgs: 1,
              fn: async (txn, n) => {
                await new Promise((r) => setTimeout(r, 1));
                txn.setVar('txn.later', Number(n) * 6);
              },
            },
          },
        },
      },
    );
    expect((await inject(engine, '/deny')).status).toBe(403);
    expect((await inject(engine, '/async')).body).toBe('42\n');
    expect((await inject(engine, '/res')).aborted).toBe(true);
    expect(logs.join('\n')).toContain('http-res action "lua.later" returned a promise: http-res actions run in header_filter, which cannot wait');
    await engine.close();
  });
});
