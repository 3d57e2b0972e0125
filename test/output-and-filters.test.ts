// Streaming output over real sockets: flush, eof, send_headers, body_filter per chunk, log after the response.
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { createEngine, createHandler, type EngineConfig, type LogEntry, type Ngx } from 'phasekit';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => { s.closeAllConnections(); s.close(r); })));
});

async function listen(config: EngineConfig) {
  const logs: LogEntry[] = [];
  const engine = await createEngine(config, { logger: (e) => logs.push(e) });
  const server = createServer(createHandler(engine));
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, logs, engine };
}

function gate() {
  let open: () => void = () => undefined;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

/** Raw request: resolves with everything received once the server closes, and `first` with the first data. */
function raw(base: string, text: string) {
  const { port } = new URL(base);
  let first: (s: string) => void = () => undefined;
  const firstData = new Promise<string>((r) => (first = r));
  const all = new Promise<string>((resolve, reject) => {
    const sock = connect(Number(port), '127.0.0.1', () => sock.write(text));
    let out = '';
    sock.on('data', (d) => {
      if (out === '') first(d.toString('latin1'));
      out += d.toString('latin1');
    });
    sock.on('close', () => resolve(out));
    sock.on('error', reject);
  });
  return { firstData, all };
}

describe('ngx.flush', () => {
  it('sends the first chunk before the handler finishes, chunked', async () => {
    const g = gate();
    const { base } = await listen({
      locations: [{ match: '/', content: async (ngx) => { ngx.say('first'); await ngx.flush(true); await g.promise; ngx.say('second'); } }],
    });
    const r = raw(base, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    const first = await r.firstData;
    expect(first).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(first).toContain('Transfer-Encoding: chunked');
    const head = first + (first.includes('first') ? '' : await new Promise<string>((res) => setTimeout(() => res(''), 50)));
    expect(head.includes('first\n') || first.endsWith('\r\n\r\n')).toBe(true);
    g.open();
    const all = await r.all;
    expect(all).toContain('6\r\nfirst\n\r\n');
    expect(all).toContain('7\r\nsecond\n\r\n0\r\n\r\n');
  });

  it('a response without flush has a Content-Length', async () => {
    const { base } = await listen({ locations: [{ match: '/', content: (ngx) => ngx.say('whole') }] });
    const res = await request(base);
    expect(res.headers['content-length']).toBe('6');
    expect(await res.body.text()).toBe('whole\n');
  });

  it('HTTP/1.0 clients get the streamed body ended by the connection close', async () => {
    const { base } = await listen({ locations: [{ match: '/', content: async (ngx) => { ngx.say('a'); await ngx.flush(); ngx.say('b'); } }] });
    const all = await raw(base, 'GET / HTTP/1.0\r\n\r\n').all;
    expect(all).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(all.endsWith('\r\n\r\na\nb\n')).toBe(true);
  });

  it('headers set after a flush are logged and ignored', async () => {
    const { base, logs } = await listen({
      locations: [{ match: '/', content: async (ngx) => { ngx.say('x'); await ngx.flush(); ngx.header['X-Late'] = '1'; } }],
    });
    const res = await request(base);
    await res.body.text();
    expect(res.headers['x-late']).toBeUndefined();
    expect(logs.map((l) => l.message)).toContain('attempt to set ngx.header.HEADER after sending out response headers');
  });
});

describe('ngx.send_headers and ngx.eof', () => {
  it('send_headers runs header_filter once, before the body', async () => {
    let runs = 0;
    const { base } = await listen({
      locations: [{ match: '/', content: async (ngx) => { ngx.sendHeaders(); ngx.say('body'); }, headerFilter: (ngx) => { runs++; ngx.header['X-HF'] = String(runs); } }],
    });
    const res = await request(base);
    expect(await res.body.text()).toBe('body\n');
    expect(res.headers['x-hf']).toBe('1');
    expect(runs).toBe(1);
  });

  it('eof ends the response while the handler goes on; later output is dropped', async () => {
    let after = false;
    const g = gate();
    const { base } = await listen({
      locations: [{ match: '/', content: async (ngx) => { ngx.say('done'); ngx.eof(); ngx.say('dropped'); await g.promise; after = true; } }],
    });
    const res = await request(base);
    expect(await res.body.text()).toBe('done\n');
    expect(after).toBe(false);
    g.open();
  });
});

describe('body_filter per chunk', () => {
  it('sees every flushed chunk and a last call with eof; can upper-case', async () => {
    const calls: string[] = [];
    const { base } = await listen({
      locations: [{
        match: '/',
        content: async (ngx) => { ngx.print('ab'); await ngx.flush(); ngx.print('cd'); },
        bodyFilter: (ngx) => { calls.push(`${String(ngx.arg.chunk)}:${ngx.arg.eof}`); ngx.arg.chunk = String(ngx.arg.chunk).toUpperCase(); },
      }],
    });
    expect(await (await request(base)).body.text()).toBe('ABCD');
    expect(calls).toEqual(['ab:false', ':false', 'cd:false', ':true']);
  });

  it('sees the eof call even when the body is empty', async () => {
    const calls: string[] = [];
    const { base } = await listen({ locations: [{ match: '/', content: () => undefined, bodyFilter: (ngx) => void calls.push(`${JSON.stringify(ngx.arg.chunk)}:${ngx.arg.eof}`) }] });
    await (await request(base)).body.text();
    expect(calls).toEqual(['"":true']);
  });

  it('setting eof truncates the rest; an empty chunk drops that chunk', async () => {
    const { base } = await listen({
      locations: [{
        match: '/',
        content: async (ngx) => { for (const c of ['keep', 'drop', 'last', 'never']) { ngx.print(c); await ngx.flush(); } },
        bodyFilter: (ngx) => {
          if (ngx.arg.chunk === 'drop') ngx.arg.chunk = '';
          if (ngx.arg.chunk === 'last') ngx.arg.eof = true;
        },
      }],
    });
    expect(await (await request(base)).body.text()).toBe('keeplast');
  });

  it('returning ngx.ERROR aborts a streamed response', async () => {
    const { base } = await listen({
      locations: [{ match: '/', content: async (ngx) => { ngx.print('a'); await ngx.flush(); ngx.print('b'); }, bodyFilter: (ngx) => (ngx.arg.chunk === 'b' ? ngx.ERROR : undefined) }],
    });
    const all = await raw(base, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n').all;
    expect(all).toContain('1\r\na\r\n');
    expect(all).not.toContain('0\r\n\r\n');
  });

  it('bodyFilterBuffer hands body_filter the whole body once; over maxBytes is a 500 with a log line', async () => {
    const calls: string[] = [];
    const { base, logs } = await listen({
      locations: [
        {
          match: '= /ok',
          bodyFilterBuffer: { maxBytes: '1k' },
          content: async (ngx) => { ngx.print('a'); await ngx.flush(); ngx.print('b'); },
          bodyFilter: (ngx) => { calls.push(`${String(ngx.arg.chunk)}:${ngx.arg.eof}`); ngx.arg.chunk = `[${String(ngx.arg.chunk)}]`; },
        },
        { match: '= /big', bodyFilterBuffer: { maxBytes: 4 }, content: (ngx) => ngx.print('12345'), bodyFilter: () => undefined },
      ],
    });
    const ok = await request(`${base}/ok`);
    expect(await ok.body.text()).toBe('[ab]');
    expect(ok.headers['content-length']).toBe('4');
    expect(calls).toEqual(['ab:true']);
    expect((await request(`${base}/big`)).statusCode).toBe(500);
    expect(logs.some((l) => l.message.includes('over bodyFilterBuffer.maxBytes (4)'))).toBe(true);
  });
});

describe('the log phase', () => {
  it('sees final status and byte counts after a streamed response', async () => {
    const seen: Record<string, unknown>[] = [];
    const { base } = await listen({
      locations: [{
        match: '/',
        content: async (ngx) => { ngx.status = 201; ngx.print('abc'); await ngx.flush(); ngx.print('de'); },
        log: (ngx) => void seen.push({ status: ngx.var.status, body: ngx.var.body_bytes_sent }),
      }],
    });
    expect(await (await request(base)).body.text()).toBe('abcde');
    await new Promise((r) => setTimeout(r, 20));
    expect(seen).toEqual([{ status: '201', body: '5' }]);
  });

  it('runs when the client goes away mid-response', async () => {
    const logged = gate();
    const { base } = await listen({
      locations: [{
        match: '/',
        content: async (ngx: Ngx) => { ngx.print('x'.repeat(1000)); await ngx.flush(true); await new Promise((r) => setTimeout(r, 50)); ngx.print('more'); },
        log: () => logged.open(),
      }],
    });
    const { port } = new URL(base);
    const sock = connect(Number(port), '127.0.0.1', () => sock.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    sock.once('data', () => sock.destroy());
    await logged.promise;
  });

  it('may await without delaying the response', async () => {
    const g = gate();
    let logDone = false;
    const { base } = await listen({
      locations: [{ match: '/', content: (ngx) => ngx.say('fast'), log: async () => { await g.promise; logDone = true; } }],
    });
    expect(await (await request(base)).body.text()).toBe('fast\n');
    expect(logDone).toBe(false);
    g.open();
  });
});
