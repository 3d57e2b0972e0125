// TypeScript handlers that fail where they cannot wait (set, header_filter, body_filter) with an
// async function that throws: the request fails (500 or a closed connection), the failure is
// logged, nothing is left as an unhandled rejection, and the server keeps serving.
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, createHandler, type EngineConfig, type Ngx } from 'phasekit';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => { s.closeAllConnections(); s.close(r); })));
});

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => void unhandled.push(reason);
beforeAll(() => void process.on('unhandledRejection', onUnhandled));
afterAll(() => void process.off('unhandledRejection', onUnhandled));

async function serve(config: EngineConfig) {
  const logs: string[] = [];
  const engine = await createEngine(config, { logger: (e) => logs.push(e.message) });
  const server = createServer(createHandler(engine));
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, logs, engine };
}

/** Writes `text` on one connection and returns all the server sent until it closed. */
function exchange(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const sock = connect(port, '127.0.0.1', () => sock.write(text));
    sock.on('data', (d) => chunks.push(d));
    sock.on('error', reject);
    sock.on('close', () => resolve(Buffer.concat(chunks).toString()));
  });
}

const get = (path: string, close = true) => `GET ${path} HTTP/1.1\r\nHost: x\r\n${close ? 'Connection: close\r\n' : ''}\r\n`;
const boom = (what: string) => async () => {
  await Promise.resolve();
  throw new Error(`${what} boom`);
};

describe('async TypeScript handlers that throw where a phase cannot wait', () => {
  it.each([
    ['headerFilter', { content: (ngx: Ngx) => ngx.say('x'), headerFilter: boom('headerFilter') }],
    ['bodyFilter', { content: (ngx: Ngx) => ngx.say('x'), bodyFilter: boom('bodyFilter') }],
  ])('%s: the connection closes, both the refusal and the rejection are logged', async (phase, handlers) => {
    const { port, logs } = await serve({ locations: [{ match: '= /bad', ...handlers }, { match: '= /ok', content: (ngx) => ngx.say('ok') }] });
    // The failed response closes the connection: the request behind it on the same connection is not answered from the middle of it.
    expect(await exchange(port, get('/bad', false) + get('/ok'))).toBe('');
    await new Promise((r) => setTimeout(r, 20));
    expect(logs.some((l) => l.includes(`attempt to yield in ${phase} handler: it must not be async`))).toBe(true);
    expect(logs).toContain(`${phase} handler rejected after the request went on: ${phase} boom`);
    expect(await exchange(port, get('/ok'))).toMatch(/^HTTP\/1.1 200 OK[^]*\r\n\r\nok\n$/);
    expect(unhandled).toEqual([]);
  });

  it('set: an async set handler is refused with a 500, its rejection logged', async () => {
    const { port, logs } = await serve({ locations: [{ match: '/', set: [{ var: 'v', handler: boom('set') as never }], content: (ngx) => ngx.say('v=', ngx.var.v) }] });
    const res = await exchange(port, get('/'));
    expect(res).toMatch(/^HTTP\/1.1 500 Internal Server Error\r\n/);
    await new Promise((r) => setTimeout(r, 20));
    expect(logs.some((l) => l.startsWith('set handler of location "/": attempt to yield in set handler: it must not be async'))).toBe(true);
    expect(logs).toContain('set handler rejected after the request went on: set boom');
    expect(unhandled).toEqual([]);
  });

  it('content that rejects after awaiting: 500, logged', async () => {
    const { port, logs } = await serve({ locations: [{ match: '/', content: boom('content') }] });
    expect(await exchange(port, get('/'))).toMatch(/^HTTP\/1.1 500 /);
    expect(logs.some((l) => l.includes('content boom'))).toBe(true);
    expect(unhandled).toEqual([]);
  });
});

describe('a failure after output that was never flushed', () => {
  const page = /^HTTP\/1.1 500 Internal Server Error\r\n[^]*Content-Type: text\/html\r\n[^]*\r\n\r\n<html>\r\n<head><title>500 Internal Server Error<\/title>/;
  it.each([
    ['Lua error() after ngx.say', { lua: 'ngx.header["X-Kept"] = "1"\nngx.say("partial")\nerror("boom")' }],
    ['Lua ngx.exec after ngx.say', { lua: 'ngx.say("partial")\nngx.exec("/elsewhere")' }],
    ['TypeScript throw after ngx.say', (ngx: Ngx) => { ngx.say('partial'); throw new Error('boom'); }],
    ['TypeScript async rejection after ngx.say', async (ngx: Ngx) => { ngx.say('partial'); await Promise.resolve(); throw new Error('boom'); }],
  ])('%s: nothing was sent, so the client gets a 500 page, not a closed connection', async (_name, content) => {
    const { port } = await serve({ locations: [{ match: '/', content: content as never }] });
    const res = await exchange(port, get('/'));
    expect(res).toMatch(page);
    expect(res).not.toContain('partial');
  });

  it('after a flush the status line is out: the connection closes as nginx closes it', async () => {
    const { port } = await serve({ locations: [{ match: '/', content: { lua: 'ngx.say("partial")\nngx.flush(true)\nerror("boom")' } }] });
    const res = await exchange(port, get('/'));
    expect(res).toMatch(/^HTTP\/1.1 200 OK\r\n/);
    expect(res).toContain('partial');
    expect(res).not.toMatch(/\r\n0\r\n\r\n$/);
  });
});

describe('shutdownTimeout', () => {
  it('engine.close() closes the connection of a request still running after shutdownTimeout (config, in seconds)', async () => {
    const { port, engine, logs } = await serve({ shutdownTimeout: 0.05, errorLogLevel: 'warn', locations: [{ match: '/', content: () => new Promise(() => undefined) }] });
    const answer = exchange(port, get('/'));
    await new Promise((r) => setTimeout(r, 30));
    await engine.close();
    expect(await answer).toBe('');
    expect(logs).toContain('1 request(s) still running after the shutdown timeout (50 ms): connections closed');
  });
});
