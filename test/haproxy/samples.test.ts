// Sample expressions %[fetch(args),conv(args),...] in setHeaders and vars: built-in fetches and converters, chaining.
import { describe, expect, it } from 'vitest';
import { createEngine, inject, type LocationConfig } from 'phasekit';

async function headersFor(setHeaders: Record<string, string>, request: Parameters<typeof inject>[1], extra: Partial<LocationConfig> = {}) {
  const engine = await createEngine({ locations: [{ match: '/', setHeaders, content: (ngx) => ngx.say('ok'), ...extra }] });
  const res = await inject(engine, request);
  await engine.close();
  return res.headers;
}

describe('setHeaders', () => {
  it('chains converters: %[req.hdr(host),lower], url_param,url_dec,upper, base64 and back, json, length', async () => {
    const h = await headersFor(
      {
        'X-Host': '%[req.hdr(host),lower]',
        'X-Q': '%[url_param(q),url_dec,upper]',
        'X-B64': '%[req.hdr(x-data),base64]',
        'X-Round': '%[req.hdr(x-data),base64,b64dec]',
        'X-Json': '%[req.hdr(x-json),json]',
        'X-Len': '%[req.hdr(x-json),length]',
      },
      { url: '/?q=hello%20w%C3%B6rld&z=1', headers: { host: 'Example.COM', 'x-data': 'a:b', 'x-json': 'say "hi"/é' } },
    );
    expect(h['x-host']).toBe('example.com');
    // upper changes ASCII letters only (HAProxy's C-locale toupper); the header goes out as UTF-8 bytes.
    expect(Buffer.from(h['x-q'] as string, 'latin1').toString('utf8')).toBe('HELLO WöRLD');
    expect(h['x-b64']).toBe('YTpi');
    expect(h['x-round']).toBe('a:b');
    expect(h['x-json']).toBe('say \\"hi\\"\\/\\u00e9');
    expect(h['x-len']).toBe('11');
  });

  it('mixes literal text, $variables and expressions; a missing sample sets nothing, or "" inside text', async () => {
    const h = await headersFor(
      { 'X-Mix': '$request_method %[path] (%[query]) %[req.hdr(x-none)]!', 'X-None': '%[req.hdr(x-none),upper]', 'X-Url': '%[url]' },
      '/a/b?c=d',
    );
    expect(h['x-mix']).toBe('GET /a/b (c=d) !');
    expect(h['x-none']).toBeUndefined();
    expect(h['x-url']).toBe('/a/b?c=d');
  });

  it('hdr() is comma-split, last occurrence by default (occ 1 is the first, -2 the one before last); fhdr keeps lines', async () => {
    const h = await headersFor(
      { 'X-Last': '%[req.hdr(x-ff)]', 'X-First': '%[req.hdr(x-ff,1)]', 'X-Prev': '%[req.hdr(x-ff,-2)]', 'X-Line': '%[req.fhdr(x-ff)]', 'X-Hdr': '%[hdr(x-resp)]' },
      { url: '/', headers: { 'x-ff': ['1.1.1.1, 2.2.2.2', '3.3.3.3'] } },
      { content: (ngx) => { ngx.header['X-Resp'] = 'from the response'; ngx.say('ok'); } },
    );
    expect([h['x-last'], h['x-first'], h['x-prev'], h['x-line']]).toEqual(['3.3.3.3', '1.1.1.1', '2.2.2.2', '3.3.3.3']);
    // In header_filter (http-res), hdr() is the response's, as in HAProxy's http-response rules.
    expect(h['x-hdr']).toBe('from the response');
  });

  it('src, method, url_param with a delimiter, req.body once read, status', async () => {
    const h = await headersFor(
      { 'X-Src': '%[src]', 'X-M': '%[method,lower]', 'X-P': '%[url_param(b,;)]', 'X-Body': '%[req.body,upper]', 'X-Status': '%[status]' },
      { method: 'POST', url: '/?a=1;b=2', body: 'payload', remoteAddress: '10.1.2.3' },
      { content: async (ngx) => { await ngx.req.readBody(); ngx.status = 202; ngx.say('ok'); } },
    );
    expect([h['x-src'], h['x-m'], h['x-p'], h['x-body'], h['x-status']]).toEqual(['10.1.2.3', 'post', '2', 'PAYLOAD', '202']);
  });
});

describe('vars with sample expressions', () => {
  it('are computed per request, in declaration order, and ngx.var reads them', async () => {
    const engine = await createEngine({
      locations: [
        {
          match: '/',
          vars: { plain: 'x', host: '%[req.hdr(host),lower]', greeting: 'hi $host from %[src]', missing: '%[req.hdr(x-none)]', after: '$plain-$host' },
          content: (ngx) => ngx.say([ngx.var.host, ngx.var.greeting, String(ngx.var.missing), ngx.var.after].join('|')),
        },
      ],
    });
    expect((await inject(engine, { url: '/', headers: { host: 'A.example' } })).body).toBe('a.example|hi a.example from 127.0.0.1|undefined|x-a.example\n');
    expect((await inject(engine, { url: '/', headers: { host: 'B.example' } })).body).toBe('b.example|hi b.example from 127.0.0.1|undefined|x-b.example\n');
    await engine.close();
  });

  it('a var named txn_NAME is the TXN variable txn.NAME (HAProxy\'s set-var(txn.NAME))', async () => {
    const engine = await createEngine(
      { locations: [{ match: '/', vars: { txn_host: '%[req.hdr(host),lower]' }, actions: { 'http-req': ['lua.greet'] }, setHeaders: { 'X-Var': '%[var(txn.host),upper]' } }] },
      { haproxy: { actions: { greet: { on: ['http-req'], fn: (txn) => txn.done({ status: 200, body: `host=${String(txn.getVar('txn.host'))}` }) } } } },
    );
    const res = await inject(engine, { url: '/', headers: { host: 'Shop.Example' } });
    expect([res.body, res.headers['x-var']]).toEqual(['host=shop.example', 'SHOP.EXAMPLE']);
    await engine.close();
  });

  it('stay writable declared variables (ngx.var), as nginx set lines', async () => {
    const engine = await createEngine({
      locations: [{ match: '/', vars: { m: '%[method]' }, rewrite: (ngx) => { ngx.var.m = `${String(ngx.var.m)}!`; }, content: (ngx) => ngx.say(ngx.var.m) }],
    });
    expect((await inject(engine, '/')).body).toBe('GET!\n');
    await engine.close();
  });
});
