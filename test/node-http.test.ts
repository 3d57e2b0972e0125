// The node:http adapter over real sockets: fall-through, HEAD, bad paths, slow handlers.
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { createEngine, type EngineConfig } from '@phasekit/core';
import { createHandler } from '@phasekit/node-http';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function listen(config: EngineConfig, withApp = false): Promise<string> {
  const engine = await createEngine(config, { logger: () => undefined });
  const handler = createHandler(engine);
  const server = createServer((req, res) => {
    if (!withApp) return handler(req, res);
    handler(req, res, (err?: unknown) => {
      res.writeHead(err ? 500 : 200, { 'content-type': 'text/plain' });
      res.end(err ? 'app error' : 'app');
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Sends raw bytes and returns everything the server answered before closing. */
function raw(base: string, text: string): Promise<string> {
  const { port } = new URL(base);
  return new Promise((resolve, reject) => {
    const sock = connect(Number(port), '127.0.0.1', () => sock.end(text));
    let out = '';
    sock.on('data', (d) => (out += d.toString('latin1')));
    sock.on('close', () => resolve(out));
    sock.on('error', reject);
  });
}

let active = 0;
let maxActive = 0;
const config: EngineConfig = {
  locations: [
    { match: '/api', content: (ngx) => ngx.say('api ', ngx.var.uri as string) },
    {
      match: '= /slow',
      content: async (ngx) => {
        maxActive = Math.max(maxActive, ++active);
        await new Promise((r) => setTimeout(r, 20));
        active--;
        ngx.say('slow');
      },
    },
    { match: '= /close', content: (ngx) => ngx.exit(ngx.ERROR) },
  ],
};

describe('node:http adapter', () => {
  it('serves matched paths and calls next() for the rest', async () => {
    const base = await listen(config, true);
    const api = await request(`${base}/api/x`);
    expect(api.statusCode).toBe(200);
    expect(await api.body.text()).toBe('api /api/x\n');
    const app = await request(`${base}/other`);
    expect(await app.body.text()).toBe('app');
  });

  it('without next(), unmatched paths get a 404 page', async () => {
    const base = await listen(config);
    const res = await request(`${base}/nothing`);
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toBe('text/html');
    expect(await res.body.text()).toContain('404 Not Found');
  });

  it('HEAD sends headers and no body over a real socket', async () => {
    const base = await listen(config);
    const out = await raw(base, 'HEAD /api HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(out).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(out).toContain('Content-Length: 9\r\n');
    expect(out.endsWith('\r\n\r\n')).toBe(true);
  });

  it('status lines carry nginx\'s reason phrases', async () => {
    const base = await listen({ locations: [{ match: '/', content: (ngx) => ngx.redirect('/x') }] });
    const out = await raw(base, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(out).toMatch(/^HTTP\/1\.1 302 Moved Temporarily\r\n/);
  });

  it('HTTP/1.0 clients get a complete response', async () => {
    const base = await listen(config);
    const out = await raw(base, 'GET /api HTTP/1.0\r\n\r\n');
    expect(out).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(out.endsWith('\r\n\r\napi /api\n')).toBe(true);
  });

  it.each(['/../x', '/a%zz', '/%00'])('answers 400 to %s, as nginx does', async (path) => {
    const base = await listen(config);
    const out = await raw(base, `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    expect(out).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
  });

  it('exit(ERROR) closes the socket without a response', async () => {
    const base = await listen(config);
    expect(await raw(base, 'GET /close HTTP/1.1\r\nHost: x\r\n\r\n')).toBe('');
  });

  it('async handlers interleave across concurrent connections', async () => {
    const base = await listen(config);
    maxActive = 0;
    const all = await Promise.all(Array.from({ length: 20 }, () => request(`${base}/slow`).then((r) => r.body.text())));
    expect(all).toEqual(Array(20).fill('slow\n'));
    expect(maxActive).toBeGreaterThan(1);
  });
});
