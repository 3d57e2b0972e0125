// ngx.req.socket: the request body as a stream (what lua-resty-upload reads), raw mode on an upgraded
// connection (lua-resty-websocket's server handshake), and cosockets in phasekit's log phase; ngx.socket.udp.
import { createHash } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { request } from 'node:http';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createClock, createEngine, inject } from 'phasekit';
import { serve, tcpPeer, waitFor, type Served } from './cosocket-servers.js';

const P = 'local function p(...) local n = select("#", ...) local t = {...} for i = 1, n do t[i] = tostring(t[i]) end ngx.say(table.concat(t, " | ")) end\n';

let served: Served | undefined;
afterEach(async () => {
  await served?.close();
  served = undefined;
});

/** POSTs `parts` written apart (so the body arrives in pieces); resolves with the answer's body. */
function post(url: string, parts: string[], headers: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const total = parts.reduce((n, p) => n + Buffer.byteLength(p), 0);
    const req = request(url, { method: 'POST', headers: { 'Content-Length': String(total), ...headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    void (async () => {
      for (const p of parts) {
        req.write(p);
        await new Promise((r) => setTimeout(r, 10));
      }
      req.end();
    })();
  });
}

describe('ngx.req.socket', () => {
  it('streams the body: receiveuntil with a boundary split across packets, in pieces of a size; the end reads "closed"', async () => {
    served = await serve({ locations: [{ match: '/', content: { lua: P + `
      local sock, err = ngx.req.socket()
      sock:settimeout(2000)
      p("again", ngx.req.socket())
      p("first line", sock:receive())
      local read = sock:receiveuntil("\\r\\n--b")
      local parts = {}
      while true do
        local data, err, partial = read(5)
        if not data then
          if err then p("error", err, partial) end
          break
        end
        parts[#parts + 1] = data
      end
      p("part", table.concat(parts, "/"))
      p("rest", sock:receive(100))
      p("after", sock:receive(1))
      p("body data", ngx.req.get_body_data())` } }] });
    const body = await post(`${served.url}/`, ['--b\r\nfield one val', 'ue and more\r', '\n-', '-b--\r\n']);
    expect(body).toBe([
      'again | nil | request body already exists',
      'first line | --b',
      'part | field/ one /value/ and /more',
      'rest | nil | closed | --\r\n',
      'after | nil | closed',
      'body data | nil',
      '',
    ].join('\n'));
  });

  it('is refused without a body, after read_body, for a chunked body, and outside rewrite/access/content', async () => {
    const e = await createEngine({ locations: [
      { match: '= /nobody', content: { lua: P + 'p(ngx.req.socket())' } },
      { match: '= /read', content: { lua: P + 'ngx.req.read_body() p(ngx.req.socket())' } },
      { match: '= /header', content: { lua: 'ngx.say("x")' }, headerFilter: { lua: 'ngx.header["X-Err"] = select(2, pcall(ngx.req.socket))' } },
    ] }, { logger: () => undefined });
    expect((await inject(e, '/nobody')).body).toBe('nil | no body\n');
    expect((await inject(e, { url: '/read', method: 'POST', body: 'abc' })).body).toBe('nil | request body already exists\n');
    expect((await inject(e, '/header')).headers['x-err']).toBe('API disabled in the context of header_filter_by_lua*');
    await e.close();
    served = await serve({ locations: [{ match: '/', content: { lua: P + 'p(ngx.req.socket())' } }] });
    const chunked = await new Promise<string>((resolve) => {
      const req = request(`${served?.url}/`, { method: 'POST', headers: { 'Transfer-Encoding': 'chunked' } }, (res) => {
        let b = '';
        res.on('data', (d: Buffer) => (b += d.toString()));
        res.on('end', () => resolve(b));
      });
      req.end('chunky');
    });
    expect(chunked).toBe('nil | chunked request bodies not supported yet\n');
  });

  it('raw mode on an upgraded connection: a WebSocket handshake as lua-resty-websocket does it, then frames', async () => {
    served = await serve({ locations: [
      { match: '= /ws', content: { lua: `
        ngx.req.read_body()
        local h = ngx.req.get_headers()
        if ngx.req.http_version() ~= 1.1 or (h.upgrade or ""):lower() ~= "websocket" then return ngx.exit(400) end
        ngx.header["Upgrade"] = "websocket"
        ngx.header["Sec-WebSocket-Accept"] = ngx.encode_base64(ngx.sha1_bin(h["sec-websocket-key"] .. "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
        ngx.header["Content-Type"] = nil
        ngx.status = 101
        assert(ngx.send_headers())
        assert(ngx.flush(true))
        local sock, err = ngx.req.socket(true)
        if not sock then ngx.log(ngx.ERR, "no raw socket: ", err) return ngx.exit(444) end
        local again, err2 = ngx.req.socket(true)
        sock:settimeout(2000)
        -- One masked text frame in: 2 header bytes, 4 mask bytes, the payload.
        local head = sock:receive(2)
        local len = head:byte(2) & 0x7f
        local mask = sock:receive(4)
        local payload = sock:receive(len)
        local out = {}
        for i = 1, len do out[i] = string.char(payload:byte(i) ~ mask:byte((i - 1) % 4 + 1)) end
        local reply = "echo: " .. table.concat(out) .. " / " .. tostring(again) .. " " .. err2
        sock:send(string.char(0x81, #reply) .. reply)` } },
      { match: '= /plain', content: { lua: P + 'p(ngx.req.socket(true))' } },
    ] });
    const key = 'dGhlIHNhbXBsZSBub25jZQ==';
    const c = connect(served.port, '127.0.0.1');
    let got = Buffer.alloc(0);
    c.on('data', (d: Buffer) => (got = Buffer.concat([got, d])));
    await new Promise<void>((r) => c.once('connect', () => r()));
    c.write(`GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    await waitFor(() => got.includes('\r\n\r\n'));
    const head = got.subarray(0, got.indexOf('\r\n\r\n')).toString();
    expect(head.split('\r\n')[0]).toBe('HTTP/1.1 101 Switching Protocols');
    expect(head).toContain(`Sec-WebSocket-Accept: ${createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64')}`);
    expect(head).toContain('Upgrade: websocket');
    got = got.subarray(got.indexOf('\r\n\r\n') + 4);
    const mask = Buffer.from([1, 2, 3, 4]);
    const payload = Buffer.from('hello');
    c.write(Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, Buffer.from(payload.map((b, i) => b ^ (mask[i % 4] as number)))]));
    await waitFor(() => got.length >= 2 && got.length >= 2 + (got[1] as number));
    expect(got[0]).toBe(0x81);
    expect(got.subarray(2, 2 + (got[1] as number)).toString()).toBe('echo: hello / nil duplicate call');
    c.destroy();
    const plain = await fetch(`${served.url}/plain`);
    expect(await plain.text()).toBe('nil | raw request socket is not available (the server did not hand over an upgraded connection)\n');
  });
});

describe('cosockets in the log phase (a phasekit difference)', () => {
  it('a log handler sends the request line to a collector after the response went out', async () => {
    const lines: string[] = [];
    let answer: (() => void) | undefined;
    const collector = await tcpPeer((s) => {
      s.on('data', (d: Buffer) => {
        lines.push(d.toString());
        answer = () => s.write('ack\n');
      });
    });
    served = await serve({ locations: [{
      match: '/',
      content: { lua: 'ngx.say("hello")' },
      log: { lua: `
        local s = ngx.socket.tcp()
        s:settimeout(2000)
        assert(s:connect("127.0.0.1", ${collector.port}))
        s:send(ngx.var.request_method .. " " .. ngx.var.uri .. " " .. ngx.status .. "\\n")
        ngx.log(ngx.ERR, "collector says ", s:receive())
        s:setkeepalive()` },
    }] });
    const res = await fetch(`${served.url}/logged`);
    expect(await res.text()).toBe('hello\n');
    await waitFor(() => answer !== undefined);
    expect(lines).toEqual(['GET /logged 200\n']);
    expect(served.logs).toHaveLength(0);
    answer?.();
    await waitFor(() => served?.logs.length === 1);
    expect(served.logs[0]?.message).toMatch(/collector says ack$/);
    await collector.close();
  });
});

describe('ngx.socket.udp', () => {
  it('setpeername, send (tables too), receive (cut to a size), timeout, close; a closed port reads as refused', async () => {
    const server = createSocket('udp4');
    server.on('message', (m, r) => {
      if (m.toString() !== 'silent') server.send(Buffer.concat([Buffer.from('echo:'), m]), r.port, r.address);
    });
    await new Promise<void>((r) => server.bind(0, '127.0.0.1', r));
    const port = server.address().port;
    const clock = createClock();
    const e = await createEngine({ locations: [{ match: '/', content: { lua: P + `
      local u = ngx.socket.udp()
      p("unconnected", u:send("x"))
      p(u:setpeername("127.0.0.1", ${port}))
      p(u:send("hello"))
      p(u:receive())
      p(u:send({ "a", { "b", 1 } }))
      p(u:receive())
      u:send("abcdefgh")
      p(u:receive(3))
      u:settimeout(500)
      u:send("silent")
      p(u:receive())
      p(u:close())
      p(u:close())
      local r = ngx.socket.udp()
      r:setpeername("127.0.0.1", 1)
      r:send("x")
      p(r:receive())` } }] }, { logger: () => undefined, clock });
    let done = false;
    const res = inject(e, '/').finally(() => (done = true));
    // Only the "silent" receive waits for its timeout: time moves until the request is done.
    for (let i = 0; i < 100 && !done; i++) await clock.tick(100);
    expect((await res).body).toBe([
      'unconnected | nil | closed',
      '1',
      '1',
      'echo:hello',
      '1',
      'echo:ab1',
      'ech',
      'nil | timeout',
      '1',
      'nil | closed',
      'nil | connection refused',
      '',
    ].join('\n'));
    await e.close();
    server.close();
  });
});
