// ngx.socket.tcp against Node peers: connect, send, receive patterns, timeouts of each kind, a peer
// closing mid-receive, receiveuntil across packets, options, and the release of every socket.
// Expected values are what nginx 1.22 + lua-nginx-module 0.10.23 answered for the same code.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, createClock, inject, type Engine, type EngineOptions } from 'phasekit';
import { echoPeer, tcpPeer, waitFor, type Peer } from './cosocket-servers.js';

/** `p(...)` prints its arguments as nginx tests print them: tostring'ed, joined by " | ". */
const P = 'local function p(...) local n = select("#", ...) local t = {...} for i = 1, n do t[i] = tostring(t[i]) end ngx.say(table.concat(t, " | ")) end\n';

async function content(lua: string, extra: Omit<EngineOptions, 'logger'> = {}) {
  const logs: string[] = [];
  const engine = await createEngine({ locations: [{ match: '/', content: { lua: P + lua } }] }, { logger: (e) => logs.push(`[${e.level}] ${e.message}`), ...extra });
  return { engine, logs };
}

async function run(lua: string) {
  const { engine, logs } = await content(lua);
  const res = await inject(engine, '/');
  await engine.close();
  return { body: res.body, status: res.status, logs };
}

/** A peer that writes `script` pieces (strings; numbers are pauses in ms) and then ends, or stays open with `hold`. */
function scripted(script: (string | number)[], hold = false): Promise<Peer> {
  return tcpPeer((s) => {
    void (async () => {
      for (const step of script) {
        if (typeof step === 'number') await new Promise((r) => setTimeout(r, step));
        else s.write(step);
      }
      if (!hold) s.end();
    })();
  });
}

describe('ngx.socket.tcp', () => {
  let echo: Peer;
  beforeAll(async () => {
    echo = await echoPeer();
  });
  afterAll(() => echo.close());

  it('connect to a refused port, and use of an unconnected socket', async () => {
    const { body, logs } = await run(`
      local s = ngx.socket.tcp()
      p("refused", s:connect("127.0.0.1", 1))
      p("send", s:send("x"))
      p("receive", s:receive())
      p("close", s:close())
      p("setkeepalive", s:setkeepalive())
      p("getreusedtimes", s:getreusedtimes())
      p("no port", s:connect("127.0.0.1"))
      p("bad port", s:connect("127.0.0.1", 70000))
      p("port string", s:connect("127.0.0.1", "${echo.port}"))
      p("connect again", s:connect("127.0.0.1", ${echo.port}))
      p("unix missing", s:connect("unix:/nonexistent/phasekit.sock"))`);
    expect(body).toBe([
      'refused | nil | connection refused',
      'send | nil | closed',
      'receive | nil | closed',
      'close | nil | closed',
      'setkeepalive | nil | closed',
      'getreusedtimes | nil | closed',
      'no port | nil | missing the port number',
      'bad port | nil | bad port number: 70000',
      'port string | 1',
      'connect again | 1',
      'unix missing | nil | no such file or directory',
      '',
    ].join('\n'));
    expect(logs).toContain('[error] connect() failed (111: Connection refused)');
    expect(logs).toContain('[error] attempt to send data on a closed socket');
  });

  it('a host name that does not resolve', async () => {
    const notFound = Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' });
    const { engine, logs } = await content('p(ngx.socket.tcp():connect("no-such-host.test", 80))', { lookup: (_h, _o, cb) => cb(notFound, '', 4) });
    expect((await inject(engine, '/')).body).toBe('nil | no-such-host.test could not be resolved (3: Host not found)\n');
    expect(logs).toContain('[error] no-such-host.test could not be resolved (3: Host not found)');
    await engine.close();
  });

  it('receive("*l") drops every CR; receive(n), "*a" and receiveany; send flattens nested tables', async () => {
    const { body } = await run(`
      local s = ngx.socket.tcp()
      s:connect("127.0.0.1", ${echo.port})
      p("send", s:send({ "a\\rb\\r\\n", { "c\\r\\r\\n", { "0123456789" } }, 2, "\\n" }))
      p(s:receive())
      p(s:receive("*l"))
      p(s:receive(4))
      p(s:receive("2"))
      p(s:receive(0))
      p(s:receiveany(100))
      p("send", s:send(""))
      p("bad", pcall(s.receive, s, "*x"))
      p("bad any", pcall(s.receiveany, s, 0))
      p("bad data", pcall(s.send, s, { "a", true }))
      p("nil and booleans are tostring'ed", s:send(nil), s:send(true))`);
    expect(body).toBe([
      'send | 21',
      'ab',
      'c',
      '0123',
      '45',
      '',
      '67892\n',
      'send | 0',
      "bad | false | bad argument #2 to '?' (bad pattern argument)",
      "bad any | false | bad argument #2 to '?' (bad max argument)",
      "bad data | false | bad argument #2 to '?' (bad data type boolean found)",
      "nil and booleans are tostring'ed | 3 | 4",
      '',
    ].join('\n'));
  });

  it('a peer that closes mid-receive: nil, "closed" and the partial data; "*a" reads to the end', async () => {
    const peer = await scripted(['hello\nwor', 20, 'ld']);
    const { body, logs } = await run(`
      local s = ngx.socket.tcp()
      s:connect("127.0.0.1", ${peer.port})
      p(s:receive())
      p(s:receive(100))
      p(s:receive())
      p("send still works", s:send("x"))
      p(s:close())
      s = ngx.socket.tcp()
      s:connect("127.0.0.1", ${peer.port})
      p(s:receive("*a"))
      p(s:receive("*a"))
      s = ngx.socket.tcp()
      s:connect("127.0.0.1", ${peer.port})
      p(s:receiveany(3))
      p(s:receiveuntil("--")())
      p(s:receiveany(3))`);
    await peer.close();
    expect(body).toBe([
      'hello',
      'nil | closed | world',
      'nil | closed',
      'send still works | 1',
      '1',
      'hello\nworld',
      '',
      'hel',
      'nil | closed | lo\nworld',
      'nil | closed',
      '',
    ].join('\n'));
    expect(logs).toContain('[error] attempt to receive data on a closed socket');
  });

  it('a peer that resets: "connection reset by peer", then a broken pipe', async () => {
    const peer = await tcpPeer((s) => s.once('data', () => s.resetAndDestroy()));
    const { body } = await run(`
      local s = ngx.socket.tcp()
      s:connect("127.0.0.1", ${peer.port})
      s:send("x")
      p(s:receive())
      p(s:send("x"))
      p(s:send("x"))`);
    await peer.close();
    expect(body).toBe('nil | connection reset by peer | \nnil | broken pipe\nnil | closed\n');
  });

  it('receiveuntil finds a boundary split across packets; inclusive and size as nginx', async () => {
    const peer = await scripted(['--ab', 10, 'c--x', 10, 'yz--a', 10, 'bc--', 10, '--ab--']);
    const peer2 = await scripted(['hello world--E', 10, 'ND--tail--END--more']);
    const peer3 = await scripted(['0123456789-', 10, '-B--x']);
    const { body } = await run(`
      local s = ngx.socket.tcp()
      s:connect("127.0.0.1", ${peer.port})
      local it = s:receiveuntil("--abc--")
      p(it()) p(it()) p(it()) p(it())
      s = ngx.socket.tcp()
      s:connect("127.0.0.1", ${peer2.port})
      it = s:receiveuntil("--END--", { inclusive = true })
      p(it()) p(it()) p(it())
      s = ngx.socket.tcp()
      s:connect("127.0.0.1", ${peer3.port})
      it = s:receiveuntil("--B--")
      p(it(4)) p(it(4)) p(it(4)) p(it(4)) p(it(4)) p(it())
      p("empty", s:receiveuntil(""))`);
    await Promise.all([peer.close(), peer2.close(), peer3.close()]);
    expect(body).toBe([
      '',
      'xyz',
      'nil | closed | --ab',
      'nil | closed',
      'hello world--END--',
      'tail--END--',
      'nil | closed | more',
      '0123',
      '4567',
      '89',
      'nil | nil | nil',
      'nil | closed | x',
      'nil | closed',
      'empty | nil | pattern is empty',
      '',
    ].join('\n'));
  });

  it('a unix socket peer', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'phasekit-unix-'));
    const path = join(dir, 'echo.sock');
    const server = createServer((c) => c.pipe(c));
    await new Promise<void>((r) => server.listen(path, r));
    const { body } = await run(`
      local s = ngx.socket.tcp()
      p(s:connect("unix:${path}"))
      s:send("over unix\\n")
      p(s:receive())
      p(s:setkeepalive())
      s = ngx.socket.tcp()
      p(s:connect("unix:${path}"), s:getreusedtimes())`);
    await new Promise<void>((r) => server.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
    expect(body).toBe('1\nover unix\n1\n1 | 1\n');
  });

  it('setoption and getoption', async () => {
    const { body } = await run(`
      local s = ngx.socket.tcp()
      p(pcall(s.setoption, s, "keepalive", true))
      s:connect("127.0.0.1", ${echo.port})
      p(s:setoption("keepalive", true), s:setoption("tcp-nodelay", false), s:setoption("reuseaddr", 1))
      p(s:getoption("keepalive"), s:getoption("tcp-nodelay"))
      p(s:setoption("nope", 1))
      p(s:setoption("keepalive"))`);
    expect(body).toBe([
      'false | socket is never created nor connected',
      'true | true | true',
      '1 | 0',
      'nil | unsupported option nope',
      'nil | missing the "value" argument',
      '',
    ].join('\n'));
  });

  it('ngx.socket.connect, ngx.socket.stream, and settimeout argument checks', async () => {
    const { body } = await run(`
      local s, err = ngx.socket.connect("127.0.0.1", ${echo.port})
      p(type(s), err)
      s:send("hi\\n")
      p(s:receive())
      p(ngx.socket.connect("127.0.0.1", 1))
      p(ngx.socket.stream == ngx.socket.tcp)
      p(pcall(s.settimeout, s))
      p(pcall(s.settimeout, s, -1))
      p(pcall(s.settimeouts, s, 1, 2))`);
    expect(body).toBe([
      'table | nil',
      'hi',
      'nil | connection refused',
      'true',
      'false | ngx.socket settimeout: expecting 2 arguments (including the object) but seen 1',
      'false | bad timeout value',
      'false | ngx.socket settimeouts: expecting 4 arguments (including the object) but seen 3',
      '',
    ].join('\n'));
  });
});

describe('timeouts (fake clock)', () => {
  async function timed(lua: string, advance: number[], options: Omit<EngineOptions, 'logger' | 'clock'> = {}) {
    const clock = createClock();
    const { engine, logs } = await content(lua, { clock, ...options });
    const res = inject(engine, '/');
    for (const ms of advance) {
      await waitFor(() => clock.pending > 0);
      await clock.tick(ms);
    }
    const r = await res;
    await engine.close();
    return { body: r.body, logs };
  }

  it('read timeout: nil, "timeout" and the partial data; the connection stays usable', async () => {
    const peer = await scripted(['abc'], true);
    const { body, logs } = await timed(`
      local s = ngx.socket.tcp()
      s:connect("127.0.0.1", ${peer.port})
      s:settimeout(100)
      p(s:receive(10))
      p(s:receive())
      p(s:send("still open"))`, [100, 100]);
    await peer.close();
    expect(body).toBe('nil | timeout | abc\nnil | timeout | \n10\n');
    expect(logs.filter((l) => l === '[error] lua tcp socket read timed out')).toHaveLength(2);
  });

  it('send timeout (a peer that does not read): nil, "timeout", and the connection is closed', async () => {
    const peer = await tcpPeer((s) => s.pause());
    const { body, logs } = await timed(`
      local s = ngx.socket.tcp()
      s:connect("127.0.0.1", ${peer.port})
      s:settimeouts(1000, 250, 1000)
      local chunk = string.rep("x", 1024 * 1024)
      local ok, err
      for i = 1, 256 do ok, err = s:send(chunk) if not ok then break end end
      p(ok, err)
      p(s:send("x"))
      p(s:close())`, [250]);
    await peer.close();
    expect(body).toBe('nil | timeout\nnil | closed\n1\n');
    expect(logs).toContain('[error] lua tcp socket write timed out');
  });

  it('connect timeout (a name that never resolves)', async () => {
    const { body, logs } = await timed(`
      local s = ngx.socket.tcp()
      s:settimeouts(300, 1000, 1000)
      p(s:connect("never.resolves.test", 80))
      p(s:send("x"))`, [300], { lookup: () => undefined });
    expect(body).toBe('nil | timeout\nnil | closed\n');
    expect(logs).toContain('[error] lua tcp socket connect timed out, when connecting to never.resolves.test:80');
  });

  it('a receiveuntil iterator times out with the partial data, keeping a partial boundary back', async () => {
    const peer = await scripted(['abc--X'], true);
    const { body } = await timed(`
      local s = ngx.socket.tcp()
      s:connect("127.0.0.1", ${peer.port})
      s:settimeout(150)
      local it = s:receiveuntil("--X--")
      p(it())
      p(it())`, [150, 150]);
    await peer.close();
    expect(body).toBe('nil | timeout | abc\nnil | timeout | \n');
  });
});

describe('sockets never leak', () => {
  let engine: Engine;
  afterAll(() => engine?.close());

  it('a request that ends, fails or is cut short releases its sockets', async () => {
    const peer = await echoPeer();
    const created = await createEngine({
      locations: [
        { match: '= /left-open', content: { lua: `local s = ngx.socket.tcp() s:connect("127.0.0.1", ${peer.port}) ngx.say("ok")` } },
        { match: '= /fails', content: { lua: `local s = ngx.socket.tcp() s:connect("127.0.0.1", ${peer.port}) error("boom")` } },
        { match: '= /exits', content: { lua: `local s = ngx.socket.tcp() s:connect("127.0.0.1", ${peer.port}) ngx.exit(403)` } },
        { match: '= /timer', content: { lua: `ngx.timer.at(0, function() local s = ngx.socket.tcp() s:connect("127.0.0.1", ${peer.port}) end) ngx.say("t")` } },
      ],
    }, { logger: () => undefined });
    engine = created;
    for (const path of ['/left-open', '/fails', '/exits', '/timer']) await inject(engine, path);
    await waitFor(() => peer.accepted === 4 && peer.open === 0);
    expect(engine.cosockets.live.size).toBe(0);
    await peer.close();
  });

  it('a long-running timer: sockets Lua collects close their connections before the timer ends', async () => {
    const peer = await echoPeer();
    const clock = createClock();
    const e = await createEngine({ initWorker: { lua: `ngx.timer.at(0, function()
      for i = 1, 40 do
        local s = ngx.socket.tcp()
        s:connect("127.0.0.1", ${peer.port})
        if i % 10 == 0 then collectgarbage() collectgarbage() end
      end
      collectgarbage() collectgarbage()
      ngx.socket.tcp()
      ngx.sleep(10)
    end)` }, locations: [] }, { logger: () => undefined, clock });
    await clock.tick(0);
    await waitFor(() => peer.accepted === 40 && clock.pending === 1);
    await waitFor(() => peer.open <= 2);
    await clock.tick(10_000);
    await e.close();
    await peer.close();
  });

  it('engine.close() closes pooled connections and fails connects made after it', async () => {
    const peer = await echoPeer();
    const e = await createEngine({ locations: [{ match: '/', content: { lua: `local s = ngx.socket.tcp() s:connect("127.0.0.1", ${peer.port}) ngx.say(s:setkeepalive())` } }] }, { logger: () => undefined });
    expect((await inject(e, '/')).body).toBe('1\n');
    expect(peer.open).toBe(1);
    await e.close();
    await waitFor(() => peer.open === 0);
    expect(e.cosockets.pools.size).toBe(0);
    await peer.close();
  });
});

describe('TypeScript handlers', () => {
  it('ngx.socket.tcp() returns the same cosocket, with awaitable results', async () => {
    const peer = await echoPeer();
    const e = await createEngine({
      locations: [{
        match: '/',
        content: async (ngx) => {
          const s = ngx.socket.tcp();
          const [ok] = await s.connect('127.0.0.1', peer.port);
          await s.send('from ts\n');
          const [line] = await s.receive('*l');
          ngx.say(String(ok), ' ', line?.toString() ?? 'nil');
          s.setKeepalive();
        },
      }],
    }, { logger: () => undefined });
    expect((await inject(e, '/')).body).toBe('1 from ts\n');
    await e.close();
    await peer.close();
  });
});
