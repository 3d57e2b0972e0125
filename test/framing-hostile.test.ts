// Framing headers a handler sets (Transfer-Encoding, Content-Length -5, Trailer, an empty name,
// Connection): never a malformed response, and the next request on the same keep-alive
// connection is answered from its own first byte. Expectations from nginx 1.22: a bad
// Content-Length raises "failed to set header" (500); an empty name is ignored; Transfer-
// Encoding and Trailer nginx sends as given (a malformed response), phasekit ignores them.
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { createEngine, createHandler, type Ngx } from 'phasekit';

const servers: Server[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => { s.closeAllConnections(); s.close(r); })));
});

const CASES: [name: string, lua: string, ts: (ngx: Ngx) => void, status: number][] = [
  ['Transfer-Encoding: chunked', 'ngx.header["Transfer-Encoding"] = "chunked"', (ngx) => { ngx.header['Transfer-Encoding'] = 'chunked'; }, 200],
  ['Transfer-Encoding: gzip', 'ngx.header.transfer_encoding = "gzip"', (ngx) => { ngx.header.transfer_encoding = 'gzip'; }, 200],
  ['Content-Length: -5', 'ngx.header["Content-Length"] = "-5"', (ngx) => { ngx.header['Content-Length'] = '-5'; }, 500],
  ['Content-Length: abc', 'ngx.header.content_length = "abc"', (ngx) => { ngx.header.content_length = 'abc'; }, 500],
  ['Content-Length: 1e3', 'ngx.header.content_length = "1e3"', (ngx) => { ngx.header.content_length = '1e3'; }, 500],
  ['Trailer', 'ngx.header["Trailer"] = "X-A"', (ngx) => { ngx.header.Trailer = 'X-A'; }, 200],
  ['an empty header name', 'ngx.header[""] = "v"', (ngx) => { ngx.header[''] = 'v'; }, 200],
  ['Connection: close', 'ngx.header["Connection"] = "close"', (ngx) => { ngx.header.Connection = 'close'; }, 200],
  ['Keep-Alive', 'ngx.header["Keep-Alive"] = "timeout=1000"', (ngx) => { ngx.header['Keep-Alive'] = 'timeout=1000'; }, 200],
];

let port = 0;
async function start(): Promise<number> {
  if (port !== 0) return port;
  const locations = CASES.flatMap(([, lua, ts], i) => [
    { match: `= /lua/${i}`, content: { lua: `${lua}\nngx.say("body")` } },
    { match: `= /ts/${i}`, content: (ngx: Ngx) => { ts(ngx); ngx.say('body'); } },
    { match: `= /lua-flush/${i}`, content: { lua: `${lua}\nngx.say("body")\nngx.flush(true)\nngx.say("more")` } },
  ]);
  const engine = await createEngine({ locations: [...locations, { match: '= /next', content: (ngx) => ngx.say('next') }] }, { logger: () => undefined });
  const server = createServer(createHandler(engine));
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
  return port;
}

interface Parsed { status: number; headers: [string, string][]; body: string }

/** Sends two requests on one connection and parses both answers strictly by their framing. */
function twoOnOneConnection(path: string): Promise<Parsed[]> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const sock = connect(port, '127.0.0.1', () => sock.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\nGET /next HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
    sock.on('data', (d) => chunks.push(d));
    sock.on('error', reject);
    sock.on('close', () => {
      try {
        resolve(parseAll(Buffer.concat(chunks).toString('latin1')));
      } catch (err) {
        reject(err);
      }
    });
  });
}

function parseAll(text: string): Parsed[] {
  const out: Parsed[] = [];
  let rest = text;
  while (rest.length > 0) {
    const end = rest.indexOf('\r\n\r\n');
    if (end === -1) throw new Error(`malformed response: ${JSON.stringify(rest)}`);
    const [statusLine, ...lines] = rest.slice(0, end).split('\r\n');
    const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(statusLine ?? '')?.[1]);
    const headers = lines.map((l): [string, string] => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]);
    const framing = headers.filter(([k]) => k === 'content-length' || k === 'transfer-encoding');
    // Exactly one framing header, and it is a valid one.
    expect(framing).toHaveLength(1);
    rest = rest.slice(end + 4);
    let body = '';
    const [kind, value] = framing[0] as [string, string];
    if (kind === 'content-length') {
      expect(value).toMatch(/^\d+$/);
      body = rest.slice(0, Number(value));
      rest = rest.slice(Number(value));
    } else {
      expect(value).toBe('chunked');
      for (;;) {
        const nl = rest.indexOf('\r\n');
        const size = parseInt(rest.slice(0, nl), 16);
        expect(Number.isNaN(size)).toBe(false);
        body += rest.slice(nl + 2, nl + 2 + size);
        rest = rest.slice(nl + 2 + size + 2);
        if (size === 0) break;
      }
    }
    expect(headers.some(([k]) => k === 'trailer' || k === '' || k === 'keep-alive' && /1000/.test(headers.find(([n]) => n === 'keep-alive')?.[1] ?? ''))).toBe(false);
    out.push({ status, headers, body });
  }
  return out;
}

describe('framing headers from handlers never make a malformed response or desynchronise keep-alive', () => {
  it.each(CASES.map(([name, , , status], i) => [name, i, status] as const))('%s', async (_name, i, status) => {
    await start();
    for (const lang of ['lua', 'ts', 'lua-flush']) {
      const [first, second, ...more] = await twoOnOneConnection(`/${lang}/${i}`);
      // Streamed (flushed) output with a bad Content-Length fails before anything goes out: 500 as well.
      expect(first?.status).toBe(status);
      if (status === 200) expect(first?.body).toBe(lang === 'lua-flush' ? 'body\nmore\n' : 'body\n');
      if (first?.headers.some(([k, v]) => k === 'connection' && v === 'close')) {
        // The server closed after the first answer: nothing else on the wire.
        expect(second).toBeUndefined();
      } else {
        expect(second).toMatchObject({ status: 200, body: 'next\n' });
      }
      expect(more).toEqual([]);
    }
  });
});
