// proxyPass over real backends on 127.0.0.1: selection, retries, health, timeouts, the balancer phase, streaming.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { createEngine, createHandler, type EngineConfig, type Engine, type LogEntry, type Ngx } from 'phasekit';
import { fetchText } from './helpers.js';

const servers: Server[] = [];
const engines: Engine[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.close()));
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => { s.closeAllConnections(); s.close(r); })));
});

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

/** A backend that answers `name` (and records what it saw) unless `handler` says otherwise. */
async function backend(name: string, handler?: Handler) {
  const seen: { url: string; host: string | undefined; xff: string | undefined; body: string; method: string }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      seen.push({ url: req.url ?? '', host: req.headers.host, xff: req.headers['x-forwarded-for'] as string | undefined, body, method: req.method ?? '' });
      if (handler) return handler(req, res, body);
      res.writeHead(200, { 'content-type': 'text/plain', 'x-backend': name });
      res.end(name);
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { address: `127.0.0.1:${(server.address() as AddressInfo).port}`, seen, name };
}

/** An address nothing listens on. */
async function deadAddress(): Promise<string> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const address = `127.0.0.1:${(s.address() as AddressInfo).port}`;
  await new Promise((r) => s.close(r));
  return address;
}

async function gateway(config: EngineConfig) {
  const logs: LogEntry[] = [];
  const engine = await createEngine(config, { logger: (e) => logs.push(e) });
  engines.push(engine);
  const server = createServer(createHandler(engine));
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const get = (path: string, init?: Parameters<typeof fetchText>[1]) => fetchText(`${base}${path}`, init);
  return { engine, logs, base, get };
}

describe('upstream selection', () => {
  it('round-robin spreads requests; weights bias it', async () => {
    const [a, b, c] = await Promise.all([backend('a'), backend('b'), backend('c')]);
    const { get } = await gateway({
      upstreams: {
        even: { servers: [a.address, b.address, c.address] },
        weighted: { servers: [{ address: a.address, weight: 2 }, b.address] },
      },
      locations: [{ match: '/even', proxyPass: 'http://even' }, { match: '/weighted', proxyPass: 'http://weighted' }],
    });
    const even: string[] = [];
    for (let i = 0; i < 6; i++) even.push((await get('/even')).body);
    expect(even.sort()).toEqual(['a', 'a', 'b', 'b', 'c', 'c']);
    const weighted: string[] = [];
    for (let i = 0; i < 6; i++) weighted.push((await get('/weighted')).body);
    expect(weighted.filter((x) => x === 'a')).toHaveLength(4);
  });

  it('hash on a variable keeps a key on its peer', async () => {
    const backends = await Promise.all(['a', 'b', 'c'].map((n) => backend(n)));
    const { get } = await gateway({
      upstreams: { sticky: { servers: backends.map((b) => b.address), hash: '$arg_user' } },
      locations: [{ match: '/', proxyPass: 'http://sticky' }],
    });
    for (const user of ['alice', 'bob', 'carol']) {
      const first = (await get(`/?user=${user}`)).body;
      for (let i = 0; i < 4; i++) expect((await get(`/?user=${user}`)).body).toBe(first);
    }
  });

  it('least connections prefers the idle peer', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => (release = r));
    const slow = await backend('slow', (_q, res) => void held.then(() => res.end('slow')));
    const fast = await backend('fast');
    const { get } = await gateway({
      upstreams: { lc: { servers: [slow.address, fast.address], method: 'least-conn' } },
      locations: [{ match: '/', proxyPass: 'http://lc' }],
    });
    const pending = get('/');
    await new Promise((r) => setTimeout(r, 50));
    expect((await get('/')).body).toBe('fast');
    expect((await get('/')).body).toBe('fast');
    release();
    expect((await pending).body).toBe('slow');
  });
});

describe('retries and health', () => {
  it('goes to the next peer when one is down; $upstream_addr lists both tries', async () => {
    const live = await backend('live');
    const dead = await deadAddress();
    let addrs = '';
    const { get } = await gateway({
      upstreams: { u: { servers: [dead, live.address] } },
      locations: [{ match: '/', proxyPass: 'http://u', log: (ngx: Ngx) => { addrs = `${String(ngx.var.upstream_addr)} | ${String(ngx.var.upstream_status)}`; } }],
    });
    const res = await get('/');
    expect(res.body).toBe('live');
    await new Promise((r) => setTimeout(r, 20));
    expect(addrs).toBe(`${dead}, ${live.address} | 502, 200`);
  });

  it('retries on a configured status (http_502) and passes the last answer when out of peers', async () => {
    const bad = await backend('bad', (_q, res) => { res.writeHead(502); res.end('bad gateway from bad'); });
    const good = await backend('good');
    const { get } = await gateway({
      upstreams: { u: { servers: [bad.address, good.address] }, onlyBad: { servers: [bad.address] } },
      locations: [
        { match: '/retry', proxyPass: 'http://u', proxy: { nextUpstream: ['error', 'timeout', 'http_502'] } },
        { match: '/last', proxyPass: 'http://onlyBad', proxy: { nextUpstream: ['http_502'] } },
      ],
    });
    expect((await get('/retry')).body).toBe('good');
    const last = await get('/last');
    expect(last.status).toBe(502);
    expect(last.body).toBe('bad gateway from bad');
  });

  it('all peers down → 502 with nginx\'s page; a peer that failed is skipped for failTimeout (passive health)', async () => {
    const flaky = await backend('flaky', (_q, res) => { res.writeHead(503); res.end(); });
    const ok = await backend('ok');
    const dead = await deadAddress();
    const { get } = await gateway({
      upstreams: {
        none: { servers: [dead] },
        pair: { servers: [{ address: flaky.address, maxFails: 1, failTimeout: 30 }, ok.address] },
      },
      locations: [
        { match: '/none', proxyPass: 'http://none' },
        { match: '/pair', proxyPass: 'http://pair', proxy: { nextUpstream: ['http_503'] } },
      ],
    });
    const none = await get('/none');
    expect(none.status).toBe(502);
    expect(none.body).toContain('502 Bad Gateway');
    for (let i = 0; i < 5; i++) expect((await get('/pair')).body).toBe('ok');
    expect(flaky.seen).toHaveLength(1);
  });

  it('does not retry once the response has begun: a backend dying mid-body cuts the client', async () => {
    const dying = await backend('dying', (_q, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('partial');
      setTimeout(() => res.destroy(), 20);
    });
    const other = await backend('other');
    const { base } = await gateway({
      upstreams: { u: { servers: [dying.address, other.address] } },
      locations: [{ match: '/', proxyPass: 'http://u', proxy: { nextUpstream: ['error', 'timeout'] } }],
    });
    await expect(request(base).then((r) => r.body.text())).rejects.toThrow();
    expect(other.seen).toHaveLength(0);
  });

  it('a read timeout answers 504', async () => {
    const slow = await backend('slow', (_q, res) => void setTimeout(() => res.end('late'), 3000));
    const { get, logs } = await gateway({
      upstreams: { u: { servers: [slow.address] } },
      locations: [{ match: '/', proxyPass: 'http://u', proxy: { readTimeout: 0.1 } }],
    });
    expect((await get('/')).status).toBe(504);
    expect(logs.some((l) => l.message.includes('upstream timed out'))).toBe(true);
  });

  it('active health checks mark a peer down and up again, with events', async () => {
    let healthy = false;
    const flappy = await backend('flappy', (req, res) => {
      if (req.url === '/health') { res.writeHead(healthy ? 200 : 500); res.end(); return; }
      res.end('flappy');
    });
    const steady = await backend('steady');
    const events: string[] = [];
    const { engine, get } = await gateway({
      upstreams: { u: { servers: [flappy.address, steady.address], healthCheck: { path: '/health', interval: 0.05, healthy: 1, unhealthy: 1 } } },
      locations: [{ match: '/', proxyPass: 'http://u' }],
    });
    engine.on('upstream:health', (e) => events.push(`${e.peer === flappy.address ? 'flappy' : 'steady'}:${e.healthy}`));
    await new Promise((r) => setTimeout(r, 200));
    expect(events).toContain('flappy:false');
    for (let i = 0; i < 4; i++) expect((await get('/')).body).toBe('steady');
    healthy = true;
    await new Promise((r) => setTimeout(r, 200));
    expect(events).toContain('flappy:true');
  });
});

describe('the balancer phase', () => {
  it('a Lua balancer picks the peer per try, retries with set_more_tries and sees get_last_failure', async () => {
    const a = await backend('a');
    const dead = await deadAddress();
    const [deadHost, deadPort] = dead.split(':');
    const [aHost, aPort] = a.address.split(':');
    const { get, logs } = await gateway({
      errorLogLevel: 'notice',
      upstreams: {
        lua: {
          balancer: {
            lua: `
              local b = require "ngx.balancer"
              local state, status = b.get_last_failure()
              if not state then
                b.set_more_tries(1)
                assert(b.set_current_peer("${deadHost}", ${deadPort}))
              else
                ngx.log(ngx.NOTICE, "last failure: ", state)
                assert(b.set_current_peer("${aHost}:${aPort}"))
              end`,
          },
        },
      },
      locations: [{ match: '/', proxyPass: 'http://lua' }],
    });
    expect((await get('/')).body).toBe('a');
    expect(logs.map((l) => l.message)).toContain('[lua] balancer(location "upstream lua"):8: last failure: failed');
  });

  it('a TypeScript balancer chooses by request data; balancer APIs elsewhere are refused', async () => {
    const [a, b] = await Promise.all([backend('a'), backend('b')]);
    const pick = { a, b };
    let refused = '';
    const { get } = await gateway({
      upstreams: {
        ts: {
          servers: [a.address, b.address],
          balancer: (ngx) => {
            const target = pick[ngx.var.arg_to as 'a' | 'b'];
            if (target) {
              const [host, port] = target.address.split(':');
              ngx.balancer.setCurrentPeer(host as string, Number(port));
            }
          },
        },
      },
      locations: [{ match: '/', proxyPass: 'http://ts', headerFilter: (ngx) => { try { ngx.balancer.getLastFailure(); } catch (err) { refused = (err as Error).message; } } }],
    });
    expect((await get('/?to=b')).body).toBe('b');
    expect((await get('/?to=a')).body).toBe('a');
    expect(refused).toBe('API disabled in the context of header_filter_by_lua*');
  });
});

describe('what goes upstream and comes back', () => {
  it('URI rules, Host, X-Forwarded-For, setHeaders, request bodies', async () => {
    const be = await backend('be');
    const { get } = await gateway({
      upstreams: { api: { servers: [be.address] } },
      locations: [
        { match: '/keep/', proxyPass: 'http://api' },
        { match: '/v1/', proxyPass: 'http://api/v2/', proxy: { xForwardedFor: true, setHeaders: { 'X-Route': '$uri', 'User-Agent': '' } } },
      ],
    });
    await get('/keep/a%20b?x=1');
    await get('/v1/items?y=2', { method: 'POST', body: 'payload', headers: { 'user-agent': 'ua' } });
    expect(be.seen[0]).toMatchObject({ url: '/keep/a%20b?x=1', host: 'api' });
    expect(be.seen[1]).toMatchObject({ url: '/v2/items?y=2', host: 'api', xff: '127.0.0.1', body: 'payload', method: 'POST' });
  });

  it('streams a large upstream body through a body_filter; header_filter and log see the proxied response', async () => {
    const size = 5 * 1024 * 1024;
    const big = await backend('big', (_q, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      let sent = 0;
      const write = () => {
        while (sent < size) {
          const n = Math.min(65536, size - sent);
          sent += n;
          if (!res.write('x'.repeat(n))) return void res.once('drain', write);
        }
        res.end();
      };
      write();
    });
    let logged = '';
    const { get } = await gateway({
      upstreams: { big: { servers: [big.address] } },
      locations: [{
        match: '/',
        proxyPass: 'http://big',
        headerFilter: (ngx) => { ngx.header['X-Upstream'] = ngx.var.upstream_addr as string; },
        bodyFilter: (ngx) => { if (typeof ngx.arg.chunk !== 'string') ngx.arg.chunk = Buffer.from(ngx.arg.chunk).toString().toUpperCase(); },
        log: (ngx) => { logged = `${String(ngx.var.upstream_status)} ${String(ngx.var.body_bytes_sent)}`; },
      }],
    });
    const res = await get('/');
    expect(res.body.length).toBe(size);
    expect(/^X+$/.test(res.body)).toBe(true);
    expect(res.headers['x-upstream']).toBe(big.address);
    await new Promise((r) => setTimeout(r, 20));
    expect(logged).toBe(`200 ${size}`);
  });

  it('bodyFilterBuffer on a proxied location: body_filter sees the whole upstream body once, sent with a Content-Length; over maxBytes is a 500', async () => {
    const be = await backend('chunks', (req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': req.url === '/big' ? '3000' : req.url === '/die' ? '100' : '9' });
      if (req.url === '/die') {
        res.write('half');
        setTimeout(() => res.socket?.destroy(), 10);
        return;
      }
      if (req.url === '/big') {
        res.write('y'.repeat(1000));
        setTimeout(() => res.end('y'.repeat(2000)), 10);
        return;
      }
      res.write('abc');
      setTimeout(() => { res.write('def'); setTimeout(() => res.end('ghi'), 10); }, 10);
    });
    const calls: string[] = [];
    const { get, logs } = await gateway({
      locations: [{
        match: '/',
        proxyPass: `http://${be.address}`,
        bodyFilterBuffer: { maxBytes: 2048 },
        bodyFilter: (ngx) => {
          const chunk = typeof ngx.arg.chunk === 'string' ? ngx.arg.chunk : Buffer.from(ngx.arg.chunk).toString();
          calls.push(`${chunk}|${String(ngx.arg.eof)}`);
          ngx.arg.chunk = `<${chunk.toUpperCase()}>`;
        },
      }],
    });
    const res = await get('/');
    expect(res.status).toBe(200);
    expect(res.body).toBe('<ABCDEFGHI>');
    expect(res.headers['content-length']).toBe('11');
    expect(res.headers['transfer-encoding']).toBeUndefined();
    expect(calls).toEqual(['abcdefghi|true']);
    const big = await get('/big');
    expect(big.status).toBe(500);
    // The upstream dies mid-body: nothing went to the client yet, so a 502 page.
    const died = await get('/die');
    expect(died.status).toBe(502);
    expect(logs.map((l) => l.message).some((m) => m.startsWith('upstream prematurely closed connection while reading upstream'))).toBe(true);
    expect(logs.map((l) => l.message).find((m) => m.includes('bodyFilterBuffer'))).toMatch(/^response body of \d+ bytes is over bodyFilterBuffer\.maxBytes \(2048\) of location "\/"$/);
  });

  it('proxyPass with a variable host keeps at most 256 pools: the least recently used is closed, then reopened on use', async () => {
    const sockets: { closed: boolean }[] = [];
    const be = await backend('var');
    const beServer = servers[servers.length - 1] as Server;
    beServer.on('connection', (sock) => {
      const entry = { closed: false };
      sockets.push(entry);
      sock.on('close', () => (entry.closed = true));
    });
    const dead = await deadAddress();
    const deadPort = dead.split(':')[1];
    const { get, logs } = await gateway({ locations: [{ match: '/', proxyPass: 'http://$arg_to' }] });
    expect((await get(`/?to=${be.address}`)).body).toBe('var');
    expect(sockets).toHaveLength(1);
    // 255 other hosts (all loopback, nothing listening) fill the table without evicting the first...
    const hosts = Array.from({ length: 256 }, (_, i) => `127.0.${1 + (i >> 7)}.${1 + (i & 127)}:${deadPort}`);
    // A host no URL can hold is no upstream: 502, logged.
    expect((await get('/?to=127.0.0.256:1')).status).toBe(502);
    expect(logs.map((l) => l.message)).toContain('no upstream "127.0.0.256:1" (proxyPass http://127.0.0.256:1)');
    for (const host of hosts.slice(0, 255)) expect((await get(`/?to=${host}`)).status).toBe(502);
    await new Promise((r) => setTimeout(r, 50));
    expect(sockets[0]?.closed).toBe(false);
    // ...the 256th does: its keepalive connection is closed.
    expect((await get(`/?to=${hosts[255]}`)).status).toBe(502);
    for (let i = 0; i < 100 && sockets[0]?.closed !== true; i++) await new Promise((r) => setTimeout(r, 10));
    expect(sockets[0]?.closed).toBe(true);
    expect((await get(`/?to=${be.address}`)).body).toBe('var');
    expect(sockets).toHaveLength(2);
  });

  it('a direct host:port proxyPass works without an upstream block; bad config is refused', async () => {
    const be = await backend('direct');
    const { get } = await gateway({ locations: [{ match: '/', proxyPass: `http://${be.address}` }] });
    expect((await get('/')).body).toBe('direct');
    await expect(createEngine({ upstreams: { u: {} }, locations: [] }, { logger: () => undefined })).rejects.toMatchObject({ code: 'PHASEKIT_ERR_CONFIG' });
    await expect(createEngine({ upstreams: { u: { servers: ['127.0.0.256:80'] } }, locations: [] }, { logger: () => undefined }))
      .rejects.toThrow('upstreams.u: bad server address "127.0.0.256:80"');
    await expect(createEngine({ locations: [{ match: '/', proxyPass: 'http://x', content: () => undefined }] }, { logger: () => undefined }))
      .rejects.toMatchObject({ code: 'PHASEKIT_ERR_CONFIG' });
  });
});

describe('proxyPass with variables', () => {
  it('a variable holding the whole URL: its path is the URI sent, as it is', async () => {
    const b = await backend('b');
    const { get } = await gateway({
      locations: [{ match: '/front', vars: { upstream_url: '' }, access: (ngx: Ngx) => { ngx.var.upstream_url = `http://${b.address}/there?x=1`; }, proxyPass: '$upstream_url' }],
    });
    const res = await get('/front/here?y=2');
    expect(res.body).toBe('b');
    expect(b.seen[0]?.url).toBe('/there?x=1');
  });

  it('a variable without a path part: the request URI goes', async () => {
    const b = await backend('b');
    const { get } = await gateway({
      locations: [{ match: '/front', vars: { target: '' }, rewrite: (ngx: Ngx) => { ngx.var.target = b.address; }, proxyPass: 'http://$target' }],
    });
    expect((await get('/front/here?y=2')).body).toBe('b');
    expect(b.seen[0]?.url).toBe('/front/here?y=2');
  });

  it('a value that is not a URL: 500 and "invalid URL prefix" logged, as nginx', async () => {
    const { get, logs } = await gateway({ locations: [{ match: '/', vars: { upstream_url: 'nowhere' }, proxyPass: '$upstream_url' }] });
    expect((await get('/')).status).toBe(500);
    expect(logs.map((e) => e.message)).toContain('invalid URL prefix in "nowhere"');
  });

  it('the config refuses a proxyPass that is neither a URL nor a variable', async () => {
    await expect(createEngine({ locations: [{ match: '/', proxyPass: 'ftp://x' }] })).rejects.toMatchObject({ code: 'PHASEKIT_ERR_CONFIG' });
  });
});
