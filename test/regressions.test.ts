// Regressions: each test is named after what broke.
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createEngine, createHandler, inject, type EngineConfig, type HttpExchange } from 'phasekit';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => { s.closeAllConnections(); s.close(r); })));
});

async function rawGet(config: EngineConfig, path: string) {
  let logs = 0;
  const engine = await createEngine({ ...config, locations: config.locations.map((l) => ({ ...l, log: () => void logs++ })) }, { logger: () => undefined });
  const server = createServer(createHandler(engine));
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const bytes = await new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    const sock = connect(port, '127.0.0.1', () => sock.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
    sock.on('data', (d) => chunks.push(d));
    sock.on('close', () => resolve(Buffer.concat(chunks)));
    sock.on('error', reject);
  });
  return { bytes, engine, logs: () => logs };
}

describe('regressions', () => {
  it('a header value beyond Latin-1 no longer crashes the server: it goes out as UTF-8 bytes, as nginx sends it', async () => {
    const sync = await rawGet({ locations: [{ match: '/', content: (ngx) => { ngx.header['X-Name'] = '日本'; ngx.say('x'); } }] }, '/');
    const async = await rawGet({ locations: [{ match: '/', content: async (ngx) => { await new Promise((r) => setTimeout(r, 5)); ngx.header['X-Name'] = 'é日'; ngx.say('x'); } }] }, '/');
    expect(sync.bytes.includes(Buffer.from('X-Name: 日本\r\n'))).toBe(true);
    expect(async.bytes.includes(Buffer.from('X-Name: é日\r\n'))).toBe(true);
    await new Promise((r) => setTimeout(r, 10));
    expect(sync.logs() + async.logs()).toBe(2);
    await sync.engine.close();
    await async.engine.close();
  });

  it('ngx.exit with a status beyond three digits is a bad argument (500), not a crash', async () => {
    const engine = await createEngine({ locations: [{ match: '/', content: (ngx) => ngx.exit(1000) }] }, { logger: () => undefined });
    expect((await inject(engine, '/')).status).toBe(500);
    await engine.close();
  });

  it('an exchange that throws while answering does not leave the request half-done: log runs, close() resolves', async () => {
    let logged = false;
    const engine = await createEngine({ locations: [{ match: '/', content: (ngx) => ngx.say('x'), log: () => void (logged = true) }] }, { logger: () => undefined });
    let aborted = false;
    const exchange: HttpExchange = {
      method: 'GET', url: '/', httpVersion: '1.1', headers: {}, rawHeaders: [], remoteAddress: '127.0.0.1', remotePort: 1,
      localAddress: '127.0.0.1', localPort: 2, secure: false,
      readBody: () => Promise.resolve(new Uint8Array()),
      respond: () => { throw new TypeError('refused by the host'); },
      writeHead: () => undefined, write: () => true, end: (done) => done?.(false), drained: () => Promise.resolve(),
      abort: () => void (aborted = true),
    };
    expect(engine.handle(exchange)).toBe(true);
    expect(aborted).toBe(true);
    expect(logged).toBe(true);
    await engine.close();
  });
});

describe('regressions (review)', () => {
  it('reload() racing close() no longer leaves a generation running (its timers stop, close resolves)', async () => {
    const { createClock } = await import('phasekit');
    const clock = createClock();
    let ticks = 0;
    const config: EngineConfig = { initWorker: (ngx) => void ngx.timer.every(0.01, () => void ticks++), locations: [] };
    const engine = await createEngine(config, { clock, logger: () => undefined });
    const reloading = engine.reload(config).catch((err: { code?: string }) => err.code);
    await engine.close();
    expect(await reloading).toBe('PHASEKIT_ERR_ENGINE_CLOSED');
    const before = ticks;
    await clock.tick(1000);
    expect(ticks).toBe(before);
    expect(engine.timers).toEqual([]);
  });

  it('two reloads at once run one after the other', async () => {
    let inits = 0;
    const engine = await createEngine({ init: () => void inits++, locations: [] }, { logger: () => undefined });
    await Promise.all([engine.reload(), engine.reload()]);
    expect(inits).toBe(3);
    await engine.close();
  });

  it('a replaced request body no longer leaves its temp file behind', async () => {
    const { existsSync } = await import('node:fs');
    let file: string | undefined;
    const engine = await createEngine({
      clientBodyBufferSize: 10,
      locations: [{ match: '/', content: async (ngx) => { await ngx.req.readBody(); file = ngx.req.getBodyFile(); ngx.req.setBodyData('small'); ngx.say(String(ngx.req.getBodyData())); } }],
    }, { logger: () => undefined });
    expect((await inject(engine, { method: 'POST', url: '/', body: 'x'.repeat(100) })).body).toBe('small\n');
    await new Promise((r) => setTimeout(r, 20));
    expect(file).toBeDefined();
    expect(existsSync(file as string)).toBe(false);
    await engine.close();
  });

  it('a request after close() gets 503 instead of crashing the server', async () => {
    const engine = await createEngine({ locations: [{ match: '/', content: (ngx) => ngx.say('x') }] }, { logger: () => undefined });
    await engine.close();
    const server = createServer(createHandler(engine));
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { request } = await import('undici');
    const res = await request(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    expect(res.statusCode).toBe(503);
    await res.body.text();
  });

  it('Lua: ngx.ctx in timer callbacks no longer pins a table per run; ngx.exit in balancer returns', async () => {
    const engine = await createEngine({
      sharedDicts: { d: '1m' },
      initWorker: { lua: 'ngx.timer.every(0.001, function() ngx.ctx.x = 1 ngx.shared.d:incr("n", 1, 0) end)' },
      upstreams: { u: { balancer: { lua: 'ngx.exit(503) ngx.shared.d:set("after_exit", true)' } } },
      locations: [{ match: '/', proxyPass: 'http://u' }, { match: '= /t', content: { lua: 'local t = {1.5, 2} ngx.header["X-A"] = t ngx.say(type(t[1]))' } }],
    }, { logger: () => undefined });
    const rt = engine.runtimes[0] as unknown as { vm: { stats(): { registryEntries: number } } };
    await new Promise((r) => setTimeout(r, 30));
    const before = rt.vm.stats().registryEntries;
    await new Promise((r) => setTimeout(r, 100));
    expect(rt.vm.stats().registryEntries - before).toBeLessThan(5);
    await inject(engine, '/');
    expect(engine.sharedDicts.d?.get('after_exit')).toBe(true);
    expect((await inject(engine, '/t')).body).toBe('number\n');
    await engine.close();
  });
});
