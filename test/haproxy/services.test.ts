// Services (core.register_service / registerService): AppletHTTP answering as a location's content handler.
import { describe, expect, it } from 'vitest';
import { createClock, Engine, inject } from 'phasekit';
import { hxEngine } from './helpers.js';

const SERVICES = `
core.register_service("hello", "http", function(applet)
  local h = applet.headers
  local body = table.concat({ applet.method, applet.version, applet.path, applet.qs, tostring(applet.length), h["host"][0], h["x-multi"][0], h["x-multi"][1] }, " ")
  applet:set_status(201, "Made")
  applet:add_header("content-type", "text/x-hello")
  applet:add_header("x-dup", "a")
  applet:add_header("x-dup", "b")
  applet:start_response()
  applet:send(body)
  applet:send("\\n")
end)
core.register_service("echo", "http", function(applet)
  local first = applet:receive(4)
  local rest = applet:receive()
  local after = applet:receive()
  applet:start_response()
  applet:send(first .. "|" .. rest .. "|" .. after .. "|" .. applet.length)
end)
core.register_service("lines", "http", function(applet)
  applet:start_response()
  local n = 0
  while true do
    local line = applet:getline()
    if line == "" then break end
    n = n + 1
    applet:send(n .. ":" .. line)
  end
end)
core.register_service("bare", "http", function(applet)
  applet:set_status(204)
  applet:add_header("x-bare", "1")
end)
core.register_service("early", "http", function(applet) applet:send("too soon") end)
core.register_service("badstatus", "http", function(applet) applet:set_status(99) end)
core.register_service("stream", "http", function(applet)
  applet:start_response()
  applet:send("first ")
  core.msleep(100)
  applet:send("second")
end)`;

describe('AppletHTTP', () => {
  it('answers with set_status, add_header (repeated kept), start_response, send; method/version/path/qs/length/headers', async () => {
    const { engine } = await hxEngine({ 's.lua': SERVICES }, { locations: [{ match: '/', service: 'lua.hello' }] });
    const res = await inject(engine, { url: '/greet?x=1&y=2', headers: { host: 'example.com', 'x-multi': ['m1', 'm2'] } });
    expect(res.status).toBe(201);
    expect(res.headers['content-type']).toBe('text/x-hello');
    expect(res.headers['x-dup']).toEqual(['a', 'b']);
    expect(res.body).toBe('GET 1.1 /greet x=1&y=2 0 example.com m1 m2\n');
    await engine.close();
  });

  it('receive(size) and receive() read a POST body; "" at its end', async () => {
    const { engine } = await hxEngine({ 's.lua': SERVICES }, { locations: [{ match: '/', service: 'lua.echo' }] });
    const res = await inject(engine, { method: 'POST', url: '/', body: 'abcdefgh' });
    expect(res.body).toBe('abcd|efgh||8');
    await engine.close();
  });

  it('receive() reads a body kept in a temp file (past clientBodyBufferSize) byte-exact', async () => {
    const { engine } = await hxEngine({ 's.lua': SERVICES }, { clientBodyBufferSize: '1k', locations: [{ match: '/', service: 'lua.echo' }] });
    const body = 'x'.repeat(5000) + 'é';
    const res = await inject(engine, { method: 'POST', url: '/', body });
    expect(res.body).toBe(`xxxx|${body.slice(4)}||${Buffer.byteLength(body)}`);
    await engine.close();
  });

  it('getline() returns lines with their \\n, the last one without, then ""', async () => {
    const { engine } = await hxEngine({ 's.lua': SERVICES }, { locations: [{ match: '/', service: 'lua.lines' }] });
    const res = await inject(engine, { method: 'POST', url: '/', body: 'one\ntwo\nthree' });
    expect(res.body).toBe('1:one\n2:two\n3:three');
    await engine.close();
  });

  it('a service that never starts its response sends its status and headers; send() before start_response() raises', async () => {
    const { engine, logs } = await hxEngine({ 's.lua': SERVICES }, {
      locations: [
        { match: '= /bare', service: 'lua.bare' },
        { match: '= /early', service: 'lua.early' },
        { match: '= /badstatus', service: 'lua.badstatus' },
      ],
    });
    const bare = await inject(engine, '/bare');
    expect([bare.status, bare.headers['x-bare'], bare.body]).toEqual([204, '1', '']);
    expect((await inject(engine, '/early')).status).toBe(500);
    expect(logs[0]?.message).toContain('applet:send(): call applet:start_response() first');
    expect((await inject(engine, '/badstatus')).status).toBe(500);
    expect(logs[1]?.message).toContain('applet:set_status(): bad status 99 (100..599)');
    await engine.close();
  });

  it('what was sent goes out before the service waits (streamed, chunked)', async () => {
    const clock = createClock();
    const { engine } = await hxEngine({ 's.lua': SERVICES }, { locations: [{ match: '/', service: 'lua.stream' }] }, { clock });
    const pending = inject(engine, '/');
    await clock.tick(100);
    const res = await pending;
    expect(res.body).toBe('first second');
    expect(res.headers['transfer-encoding']).toBe('chunked');
    await engine.close();
  });

  it('runs after http-req actions, and setHeaders / http-res actions apply to its response', async () => {
    const { engine } = await hxEngine(
      {
        's.lua': `${SERVICES}
core.register_action("user", { "http-req" }, function(txn) txn:set_var("txn.user", txn.sf:req_hdr("x-user")) end)
core.register_service("whoami", "http", function(applet)
  applet:start_response()
  applet:send(applet:get_var("txn.user") .. " " .. applet.f:method())
end)`,
      },
      { locations: [{ match: '/', actions: { 'http-req': ['lua.user'] }, service: 'lua.whoami', setHeaders: { 'X-User': '%[var(txn.user),upper]' } }] },
    );
    const res = await inject(engine, { url: '/', headers: { 'x-user': 'ann' } });
    expect([res.body, res.headers['x-user']]).toEqual(['ann GET', 'ANN']);
    await engine.close();
  });
});

describe('TypeScript services', () => {
  it('registerService before start (new Engine, register, start): the same applet API, awaiting receive()', async () => {
    const engine = new Engine({ locations: [{ match: '/', service: 'lua.upper' }] });
    engine.registerService('upper', async (applet) => {
      const body = await applet.receive();
      applet.setStatus(200);
      applet.addHeader('X-Length', String(applet.length));
      applet.startResponse();
      applet.send(body.toUpperCase());
    });
    await engine.start();
    const res = await inject(engine, { method: 'PUT', url: '/', body: 'shout' });
    expect([res.status, res.headers['x-length'], res.body]).toEqual([200, '5', 'SHOUT']);
    await engine.close();
  });
});
