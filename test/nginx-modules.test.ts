// nginx's own modules from a JSON config (the keys an nginx.conf maps to): rules, addHeaders,
// static files, errorPages, accessLog, per-location body limits, virtual hosts.
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createEngine, inject, type Engine, type EngineConfig, type Ngx } from 'phasekit';

const engines: Engine[] = [];
afterEach(async () => {
  for (const e of engines.splice(0)) await e.close();
});

async function engine(config: EngineConfig): Promise<Engine> {
  const e = await createEngine(config, { logger: () => undefined });
  engines.push(e);
  return e;
}

describe('rules (nginx rewrite module) from JSON', () => {
  it('set, if, rewrite last and return, in order', async () => {
    const e = await engine({
      locations: [
        {
          match: '/old/',
          rules: [
            { set: 'tag', value: 'from-$arg_t' },
            { if: '$arg_deny = yes', then: [{ return: 403 }] },
            { rewrite: '^/old/(.*)$', replacement: '/new/$1?moved=1', flag: 'last' },
          ],
        },
        { match: '/new/', content: (ngx) => ngx.say(ngx.var.uri, ' ', ngx.var.args, ' ', ngx.var.tag) },
        { match: '= /r', rules: [{ return: 200, text: 'hi $arg_n' }] },
      ],
    });
    expect((await inject(e, '/old/x?t=1')).body).toBe('/new/x moved=1&t=1 from-1\n');
    expect((await inject(e, '/old/x?deny=yes')).status).toBe(403);
    const r = await inject(e, '/r?n=5');
    expect([r.status, r.body, r.headers['content-length']]).toEqual([200, 'hi 5', '4']);
  });

  it('a bad rule is a config error naming its path', async () => {
    await expect(createEngine({ locations: [{ match: '/', rules: [{ if: ['$a', '~', '(unclosed'], then: [] }] }] })).rejects.toThrow(/locations\[0\]\.rules\[0\]: pcre_compile\(\) failed/);
    await expect(createEngine({ locations: [{ match: '/', rules: [{ return: 200, set: 'x' } as never] }] })).rejects.toThrow(/locations\[0\]\.rules\[0\]/);
  });

  it('a variable set in one location is declared in every location', async () => {
    const e = await engine({ locations: [{ match: '= /a', rules: [{ set: 'x', value: '1' }] }, { match: '= /b', content: (ngx) => { ngx.var.x = 'written'; ngx.say(ngx.var.x); } }] });
    expect((await inject(e, '/b')).body).toBe('written\n');
  });
});

describe('addHeaders', () => {
  it('adds after the header filter, for 2xx/3xx unless always', async () => {
    const e = await engine({
      locations: [
        { match: '= /ok', addHeaders: [{ name: 'X-A', value: '$uri' }, { name: 'X-Empty', value: '$arg_none' }], headerFilter: (ngx) => { ngx.header['X-Seen'] = String(ngx.header['X-A']); }, content: (ngx) => ngx.say('ok') },
        { match: '= /err', addHeaders: [{ name: 'X-A', value: '1' }, { name: 'X-B', value: '2', always: true }], rules: [{ return: 500 }] },
      ],
    });
    const ok = await inject(e, '/ok');
    expect([ok.headers['x-a'], ok.headers['x-seen'], ok.headers['x-empty']]).toEqual(['/ok', 'undefined', undefined]);
    const err = await inject(e, '/err');
    expect([err.status, err.headers['x-a'], err.headers['x-b']]).toEqual([500, undefined, '2']);
  });
});

describe('static files, errorPages, accessLog, clientMaxBodySize', () => {
  const dir = mkdtempSync(join(tmpdir(), 'phasekit-static-'));
  mkdirSync(join(dir, 'www/sub'), { recursive: true });
  writeFileSync(join(dir, 'www/a.txt'), 'hello\n');
  writeFileSync(join(dir, 'www/sub/index.html'), '<p>sub</p>\n');
  writeFileSync(join(dir, 'www/404.html'), 'not found page\n');

  it('serves root with index, redirects a folder, 404s and 304s', async () => {
    const e = await engine({ lua: { prefix: dir }, types: { 'text/plain': ['txt'], 'text/html': ['html'] }, locations: [{ match: '/', root: 'www', portInRedirect: false }] });
    const a = await inject(e, '/a.txt');
    expect([a.status, a.body, a.headers['content-type'], a.headers['accept-ranges']]).toEqual([200, 'hello\n', 'text/plain', 'bytes']);
    expect(a.headers.etag).toMatch(/^"[0-9a-f]+-6"$/);
    expect((await inject(e, { url: '/a.txt', headers: { 'if-none-match': a.headers.etag as string } })).status).toBe(304);
    expect((await inject(e, '/sub/')).body).toBe('<p>sub</p>\n');
    const dirRedirect = await inject(e, { url: '/sub', headers: { host: 'example.test' } });
    expect([dirRedirect.status, dirRedirect.headers.location]).toEqual([301, 'http://example.test/sub/']);
    expect((await inject(e, '/none')).status).toBe(404);
  });

  it('errorPages: an internal redirect keeping the status, =200, and a named location', async () => {
    const e = await engine({
      lua: { prefix: dir },
      locations: [
        { match: '= /keep', errorPages: [{ codes: [404], target: '/404.html' }], rules: [{ return: 404 }] },
        { match: '= /ok', errorPages: [{ codes: [500], target: '/404.html', status: 200 }], content: () => { throw new Error('boom'); } },
        { match: '= /named', errorPages: [{ codes: [403], target: '@n', status: 'target' }], rules: [{ return: 403 }] },
        { match: '@n', content: (ngx) => { ngx.status = 202; ngx.say('named ', ngx.req.getMethod()); } },
        { match: '/', root: 'www' },
      ],
    });
    const keep = await inject(e, '/keep');
    expect([keep.status, keep.body]).toEqual([404, 'not found page\n']);
    const ok = await inject(e, '/ok');
    expect([ok.status, ok.body]).toEqual([200, 'not found page\n']);
    const named = await inject(e, { url: '/named', method: 'POST', body: 'x' });
    expect([named.status, named.body]).toEqual([202, 'named POST\n']);
  });

  it('accessLog: combined by default, a custom format, to a file', async () => {
    const e = await engine({
      lua: { prefix: dir },
      logFormats: { short: '$request_method $uri $status "$http_x_q"' },
      accessLog: [{ path: 'access.log' }],
      locations: [
        { match: '= /short', accessLog: [{ path: 'short.log', format: 'short' }], content: (ngx) => ngx.say('s') },
        { match: '= /off', accessLog: false, content: (ngx) => ngx.say('o') },
        { match: '/', content: (ngx) => ngx.say('c') },
      ],
    });
    await inject(e, { url: '/short', headers: { 'x-q': 'a"b' } });
    await inject(e, '/off');
    await inject(e, { url: '/c?x=1', headers: { 'user-agent': 'ua' } });
    expect(readFileSync(join(dir, 'short.log'), 'utf8')).toBe('GET /short 200 "a\\x22b"\n');
    expect(readFileSync(join(dir, 'access.log'), 'utf8')).toMatch(/^127\.0\.0\.1 - - \[\d\d\/\w{3}\/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] "GET \/c\?x=1 HTTP\/1\.1" 200 2 "-" "ua"\n$/);
  });

  it('clientMaxBodySize per location answers 413 on Content-Length; needRequestBody reads the body first', async () => {
    const e = await engine({
      locations: [
        { match: '= /small', clientMaxBodySize: 4, content: (ngx) => ngx.say('in') },
        { match: '= /read', needRequestBody: true, content: (ngx) => ngx.say(ngx.req.getBodyData()) },
      ],
    });
    expect((await inject(e, { url: '/small', method: 'POST', body: '12345' })).status).toBe(413);
    expect((await inject(e, { url: '/small', method: 'POST', body: '1234' })).status).toBe(200);
    expect((await inject(e, { url: '/read', method: 'POST', body: 'abc' })).body).toBe('abc\n');
  });
});

describe('virtual hosts', () => {
  it('servers are chosen by Host: exact, wildcards, regex, else the default', async () => {
    const say = (what: string) => ({ match: '/', content: (ngx: Ngx) => ngx.say(what, ' ', ngx.var.server_name) });
    const e = await engine({
      serverName: 'main.test',
      locations: [say('main')],
      servers: [
        { serverName: ['*.wild.test', 'www.tail.*'], locations: [say('wild')] },
        { serverName: '~^(?<sub>[a-z]+)\\.re\\.test$', locations: [{ match: '/', content: (ngx) => ngx.say('regex ', ngx.var.sub) }] },
        { serverName: 'other.test', listen: ['127.0.0.1:1 default_server'], locations: [say('other')] },
      ],
    });
    const body = async (host: string) => (await inject(e, { url: '/', headers: { host } })).body;
    expect(await body('main.test')).toBe('main main.test\n');
    expect(await body('a.b.wild.test:8080')).toBe('wild *.wild.test\n');
    expect(await body('www.tail.org')).toBe('wild *.wild.test\n');
    expect(await body('abc.re.test')).toBe('regex abc\n');
    expect(await body('unknown.test')).toBe('main main.test\n');
  });

  it('bad names and listen entries are config errors', async () => {
    await expect(createEngine({ locations: [], servers: [{ serverName: 'a*b', locations: [] }] })).rejects.toThrow(/servers\[0\]\.serverName: invalid server name "a\*b"/);
    await expect(createEngine({ listen: ['127.0.0.1:x'], locations: [] })).rejects.toThrow(/listen\[0\]: bad listen address/);
  });
});
