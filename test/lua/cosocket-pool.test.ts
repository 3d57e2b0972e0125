// Keepalive pools: reuse counts, pool size, idle timeout, named pools, setkeepalive's refusals,
// the connect backlog, and 1,000 concurrent requests each doing a round trip.
import { afterEach, describe, expect, it } from 'vitest';
import { createClock, createEngine, inject, type Engine, type EngineOptions, type LocationConfig } from 'phasekit';
import { echoPeer, tcpPeer, waitFor, type Peer } from './cosocket-servers.js';

const P = 'local function p(...) local n = select("#", ...) local t = {...} for i = 1, n do t[i] = tostring(t[i]) end ngx.say(table.concat(t, " | ")) end\n';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function peer(): Promise<Peer> {
  const p = await echoPeer();
  cleanup.push(() => p.close());
  return p;
}

async function engineWith(locations: LocationConfig[], options: EngineOptions = {}): Promise<Engine> {
  const e = await createEngine({ locations: locations.map((l) => ({ ...l, content: l.content === undefined ? undefined : { lua: P + (l.content as { lua: string }).lua } })) }, { logger: () => undefined, ...options });
  cleanup.push(() => e.close());
  return e;
}

describe('keepalive pools', () => {
  it('a pooled connection is reused by later requests; getreusedtimes counts', async () => {
    const echo = await peer();
    const e = await engineWith([{ match: '/', content: { lua: `
      local s = ngx.socket.tcp()
      s:connect("127.0.0.1", ${echo.port})
      s:send("ping\\n")
      local line = s:receive()
      p(line, s:getreusedtimes(), s:setkeepalive())` } }]);
    const bodies = [];
    for (let i = 0; i < 3; i++) bodies.push((await inject(e, '/')).body);
    expect(bodies).toEqual(['ping | 0 | 1\n', 'ping | 1 | 1\n', 'ping | 2 | 1\n']);
    expect(echo.accepted).toBe(1);
    expect(e.cosockets.pools.get(`127.0.0.1:${echo.port}`)?.idle).toBe(1);
  });

  it('a full pool closes its oldest idle connection; named pools are separate', async () => {
    const echo = await peer();
    const e = await engineWith([{ match: '/', content: { lua: `
      local a, b, c = ngx.socket.tcp(), ngx.socket.tcp(), ngx.socket.tcp()
      a:connect("127.0.0.1", ${echo.port}) b:connect("127.0.0.1", ${echo.port}) c:connect("127.0.0.1", ${echo.port})
      p(a:setkeepalive(0, 2), b:setkeepalive(0, 2), c:setkeepalive(0, 5))
      local n = ngx.socket.tcp()
      n:connect("127.0.0.1", ${echo.port}, { pool = "named" })
      p("named reused", n:getreusedtimes(), n:setkeepalive())
      n = ngx.socket.tcp()
      n:connect("127.0.0.1", ${echo.port}, { pool = "named" })
      p("named again", n:getreusedtimes())` } }]);
    expect((await inject(e, '/')).body).toBe('1 | 1 | 1\nnamed reused | 0 | 1\nnamed again | 1\n');
    await waitFor(() => echo.open === 2);
    const pool = e.cosockets.pools.get(`127.0.0.1:${echo.port}`);
    expect(pool?.size).toBe(2);
    expect(pool?.idle).toBe(2);
  });

  it('idle connections close after their timeout (fake clock), and when the peer closes them', async () => {
    const clock = createClock();
    const echo = await peer();
    const e = await engineWith([
      { match: '= /keep', content: { lua: `local s = ngx.socket.tcp() s:connect("127.0.0.1", ${echo.port}) p(s:setkeepalive(tonumber(ngx.var.arg_t)))` } },
      { match: '= /use', content: { lua: `local s = ngx.socket.tcp() s:connect("127.0.0.1", ${echo.port}) p(s:getreusedtimes()) s:close()` } },
    ], { clock });
    await inject(e, '/keep?t=1000');
    expect(echo.open).toBe(1);
    await clock.tick(999);
    expect(echo.open).toBe(1);
    await clock.tick(1);
    await waitFor(() => echo.open === 0);
    expect((await inject(e, '/use')).body).toBe('0\n');
    // The peer closes an idle connection: it leaves the pool.
    const closer = await tcpPeer((s) => setTimeout(() => s.end(), 30));
    cleanup.push(() => closer.close());
    const e2 = await engineWith([{ match: '/', content: { lua: `local s = ngx.socket.tcp() s:connect("127.0.0.1", ${closer.port}) p(s:getreusedtimes(), s:setkeepalive(0))` } }]);
    expect((await inject(e2, '/')).body).toBe('0 | 1\n');
    await waitFor(() => e2.cosockets.pools.get(`127.0.0.1:${closer.port}`) === undefined);
    expect((await inject(e2, '/')).body).toBe('0 | 1\n');
  });

  it('setkeepalive refuses unread data (socket kept) and a dubious connection (socket closed)', async () => {
    const echo = await peer();
    const e = await engineWith([{ match: '/', content: { lua: `
      local s = ngx.socket.tcp()
      s:connect("127.0.0.1", ${echo.port})
      s:send("ab\\ncd\\n")
      p(s:receive(1))
      p(s:setkeepalive())
      p(s:receive())
      s = ngx.socket.tcp()
      s:connect("127.0.0.1", ${echo.port})
      s:send("x\\n")
      ngx.sleep(0.05)
      p(s:setkeepalive())
      p(s:send("x"))
      p(pcall(s.setkeepalive, s, "x"))` } }]);
    expect((await inject(e, '/')).body).toBe([
      'a',
      'nil | unread data in buffer',
      'b',
      'nil | connection in dubious state',
      'nil | closed',
      "false | bad argument #2 to '?' (number expected, got string)",
      '',
    ].join('\n'));
  });

  it('backlog: connects past pool_size wait for a free connection; the queue has a limit and a timeout', async () => {
    const clock = createClock();
    const echo = await peer();
    const e = await engineWith([{ match: '/', content: { lua: `
      local s = ngx.socket.tcp()
      s:settimeouts(tonumber(ngx.var.arg_ct or 2000), 1000, 1000)
      local ok, err = s:connect("127.0.0.1", ${echo.port}, { pool_size = 1, backlog = 1 })
      if not ok then p(ngx.var.arg_n, err) return end
      ngx.sleep(tonumber(ngx.var.arg_hold))
      p(ngx.var.arg_n, s:getreusedtimes(), s:setkeepalive())` } }], { clock });
    const first = inject(e, '/?n=1&hold=1');
    await waitFor(() => clock.pending === 1);
    const second = inject(e, '/?n=2&hold=0');
    const third = inject(e, '/?n=3&hold=0');
    expect((await third).body).toBe('3 | too many waiting connect operations\n');
    await clock.tick(1000);
    expect((await first).body).toBe('1 | 0 | 1\n');
    expect((await second).body).toBe('2 | 1 | 1\n');
    expect(echo.accepted).toBe(1);
    // Waiting longer than the connect timeout: "timeout".
    const holder = inject(e, '/?n=4&hold=10');
    await waitFor(() => clock.pending === 1);
    const late = inject(e, '/?n=5&hold=0&ct=500');
    await waitFor(() => clock.pending === 2);
    await clock.tick(500);
    expect((await late).body).toBe('5 | timeout\n');
    await clock.tick(10_000);
    expect((await holder).body).toBe('4 | 2 | 1\n');
  });
});

describe('1,000 concurrent requests', () => {
  it('each does a round trip; with a pool of 20 and a backlog, 20 connections serve them all', async () => {
    const echo = await peer();
    const e = await engineWith([{ match: '/', content: { lua: `
      local s = ngx.socket.tcp()
      local ok, err = s:connect("127.0.0.1", ${echo.port}, { pool_size = 20, backlog = 1000 })
      if not ok then ngx.say("connect: ", err) return end
      s:send(ngx.var.arg_i .. "\\n")
      local line, err = s:receive()
      if not line then ngx.say("receive: ", err) return end
      ngx.say(line)
      s:setkeepalive(0, 20)` } }]);
    const all = await Promise.all(Array.from({ length: 1000 }, (_, i) => inject(e, `/?i=${i}`)));
    expect(all.every((r, i) => r.body === `${i}\n`)).toBe(true);
    expect(echo.accepted).toBe(20);
    expect(e.cosockets.live.size).toBe(0);
  });
});
