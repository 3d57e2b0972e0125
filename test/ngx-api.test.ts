// The TypeScript ngx API: variables, response and request headers, args, body, status, ctx.
import { describe, expect, it } from 'vitest';
import { defaultPage, type Ngx } from '@phasekit/core';
import { inject } from '@phasekit/testing';
import { engineWithLogs } from './helpers.js';

async function run(content: (ngx: Ngx) => unknown, req: Parameters<typeof inject>[1] = '/', extra: object = {}) {
  const { engine, logs } = await engineWithLogs({ locations: [{ match: '/', content, ...extra }] });
  const res = await inject(engine, req);
  return { res, logs };
}

describe('ngx.var', () => {
  it('built-ins are strings; missing ones are undefined', async () => {
    const seen: Record<string, unknown> = {};
    await run((ngx) => {
      for (const n of ['uri', 'args', 'query_string', 'is_args', 'request_uri', 'arg_a', 'arg_b', 'arg_missing', 'http_user_agent',
        'http_x_multi', 'cookie_x', 'cookie_missing', 'request_method', 'status', 'remote_addr', 'scheme', 'host', 'nonexistent',
        'server_protocol', 'request', 'content_length']) seen[n] = ngx.var[n];
    }, { url: '/p?a=1&b=x%20y&a=2', headers: { 'user-agent': 'UA/1', cookie: 'x=cv; y=2', 'x-multi': ['m1', 'm2'], host: 'Example.COM:8080' } });
    expect(seen).toEqual({
      uri: '/p', args: 'a=1&b=x%20y&a=2', query_string: 'a=1&b=x%20y&a=2', is_args: '?', request_uri: '/p?a=1&b=x%20y&a=2',
      arg_a: '1', arg_b: 'x%20y', arg_missing: undefined, http_user_agent: 'UA/1', http_x_multi: 'm1', cookie_x: 'cv',
      cookie_missing: undefined, request_method: 'GET', status: '000', remote_addr: '127.0.0.1', scheme: 'http',
      host: 'example.com', nonexistent: undefined, server_protocol: 'HTTP/1.1', request: 'GET /p?a=1&b=x%20y&a=2 HTTP/1.1',
      content_length: undefined,
    });
  });

  it('args is undefined and is_args empty without a query string', async () => {
    const { res } = await run((ngx) => ngx.say(String(ngx.var.args), '|', ngx.var.is_args as string, '|'));
    expect(res.body).toBe('undefined||\n');
  });

  it('declared vars are writable, with $var interpolation in their initial value', async () => {
    const { res } = await run((ngx) => {
      const before = ngx.var.greeting as string;
      ngx.var.greeting = 'bye';
      ngx.var.n = 12;
      ngx.say(before, ' ', ngx.var.greeting as string, ' ', String(ngx.var['n']), ' ', typeof ngx.var['n']);
    }, '/?who=bob', { vars: { greeting: 'hi $arg_who', n: '' } });
    expect(res.body).toBe('hi bob bye 12 string\n');
  });

  it('writing an undeclared or read-only variable errors as nginx does', async () => {
    const { logs } = await run((ngx) => { ngx.var.undeclared_xyz = '1'; });
    expect(logs[0]?.message).toContain(`variable "undeclared_xyz" not found for writing; maybe it is a built-in variable that is not changeable or you forgot to use "set $undeclared_xyz '';" in the config file to define it first`);
    const ro = await run((ngx) => { ngx.var.uri = '/x'; });
    expect(ro.res.status).toBe(500);
    expect(ro.logs[0]?.message).toContain('variable "uri" not changeable');
  });

  it('$args is writable and feeds arg_ and getUriArgs', async () => {
    const { res } = await run((ngx) => {
      ngx.var.args = 'z=9';
      ngx.say(ngx.var.arg_z as string, ' ', ngx.req.getUriArgs().z as string);
    }, '/?a=1');
    expect(res.body).toBe('9 9\n');
  });

  it('regex captures are $1.. and named captures', async () => {
    const { engine } = await engineWithLogs({
      locations: [{ match: '~ ^/u/(\\w+)/(?<named>\\w+)$', content: (ngx) => ngx.say(ngx.var[1] as string, ' ', ngx.var.named as string, ' ', String(ngx.var[3])) }],
    });
    expect((await inject(engine, '/u/abc/def')).body).toBe('abc def undefined\n');
  });

  it('status, bytes and request_time are final in log after exit(403)', async () => {
    const seen: Record<string, unknown> = {};
    await run((ngx) => ngx.exit(403), '/', {
      log: (ngx: Ngx) => Object.assign(seen, { status: ngx.var.status, ngxStatus: ngx.status, body: ngx.var.body_bytes_sent, time: ngx.var.request_time }),
    });
    expect(seen).toMatchObject({ status: '403', ngxStatus: 403, body: String(Buffer.byteLength(defaultPage(403) as string)) });
    expect(seen.time).toMatch(/^\d+\.\d{3}$/);
  });
});

describe('ngx.header', () => {
  it('underscores become dashes, reads are case-insensitive, numbers and booleans are strings', async () => {
    const { res } = await run((ngx) => {
      ngx.header.X_Under = '1';
      ngx.header['x-MiXeD'] = 3;
      ngx.header.Bool = true;
      ngx.say(String(ngx.header['x-under']), ' ', String(ngx.header.X_MIXED), ' ', typeof ngx.header.x_mixed);
    });
    expect(res.body).toBe('1 3 string\n');
    expect(res.headers['x-under']).toBe('1');
    expect(res.headers['x-mixed']).toBe('3');
    expect(res.headers.bool).toBe('true');
  });

  it('multi-value headers are sent as repeated lines; undefined and "" clear', async () => {
    const { res } = await run((ngx) => {
      ngx.header['Set-Cookie'] = ['a=1', 'b=2'];
      ngx.header['X-Gone'] = '1';
      ngx.header['X-Gone'] = undefined;
      ngx.header['X-Empty'] = '';
      ngx.say(JSON.stringify(ngx.header['set-cookie']));
    });
    expect(res.headers['set-cookie']).toEqual(['a=1', 'b=2']);
    expect(res.headers['x-gone']).toBeUndefined();
    expect(res.headers['x-empty']).toBeUndefined();
    expect(res.body).toBe('["a=1","b=2"]\n');
  });

  it('CR/LF in values and names are %-escaped, so nothing can be injected (as OpenResty does)', async () => {
    const { res } = await run((ngx) => {
      ngx.header['X-A'] = 'a\r\nSet-Cookie: evil=1';
      ngx.header['X B:'] = 'v';
      ngx.say('x');
    });
    expect(res.headers['x-a']).toBe('a%0D%0ASet-Cookie: evil=1');
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(res.headers['x%20b%3a']).toBe('v');
  });

  it('content_type read is undefined until set; header_filter sees the default; clearing it sends none', async () => {
    let inContent: unknown = 'unset';
    let inFilter: unknown;
    await run((ngx) => { inContent = ngx.header.content_type; ngx.say('x'); }, '/', {
      headerFilter: (ngx: Ngx) => { inFilter = ngx.header.content_type; },
    });
    expect(inContent).toBeUndefined();
    expect(inFilter).toBe('text/plain');
    const { res } = await run((ngx) => { ngx.header.content_type = null; ngx.say('x'); });
    expect(res.headers['content-type']).toBeUndefined();
  });

  it('after output, header and status changes are logged and ignored (OpenResty sends headers at the first say)', async () => {
    const { res, logs } = await run((ngx) => {
      ngx.say('x');
      ngx.header['X-Late'] = '1';
      ngx.status = 404;
    });
    expect(res.status).toBe(200);
    expect(res.headers['x-late']).toBeUndefined();
    expect(logs.map((l) => l.message)).toEqual([
      'attempt to set ngx.header.HEADER after sending out response headers',
      'attempt to set ngx.status after sending out response headers',
    ]);
  });

  it('header_filter may change status and headers', async () => {
    const { res } = await run((ngx) => ngx.say('x'), '/', {
      headerFilter: (ngx: Ngx) => { ngx.status = 202; ngx.header['X-HF'] = 'hf'; ngx.header.content_type = 'text/hf'; },
    });
    expect(res.status).toBe(202);
    expect(res.headers['x-hf']).toBe('hf');
    expect(res.headers['content-type']).toBe('text/hf');
  });

  it('exit in header_filter replaces the response: exit(200) empties it, exit(403) serves the page', async () => {
    const ok = await run((ngx) => ngx.say('body'), '/', { headerFilter: (ngx: Ngx) => ngx.exit(200) });
    expect(ok.res.status).toBe(200);
    expect(ok.res.body).toBe('');
    expect(ok.res.headers['content-length']).toBe('0');
    expect(ok.res.headers['content-type']).toBeUndefined();
    const denied = await run((ngx) => ngx.say('body'), '/', { headerFilter: (ngx: Ngx) => ngx.exit(403) });
    expect(denied.res.status).toBe(403);
    expect(denied.res.body).toContain('403 Forbidden');
  });

  it('ngx.resp.getHeaders lists response headers lower-cased', async () => {
    const { res } = await run((ngx) => { ngx.header['X-One'] = '1'; ngx.say(JSON.stringify(ngx.resp.getHeaders())); });
    expect(res.body).toBe('{"x-one":"1"}\n');
  });
});

describe('ngx.req', () => {
  it('getHeaders lower-cases names, repeats become arrays, raw keeps case, max limits', async () => {
    const { res } = await run((ngx) => {
      const h = ngx.req.getHeaders();
      // max counts header lines, as nginx does: the two x-multi lines fill max = 2.
      ngx.say(JSON.stringify([h['x-multi'], h['user-agent'], Object.keys(ngx.req.getHeaders(2))]));
    }, { url: '/', headers: { 'X-Multi': ['m1', 'm2'], 'User-Agent': 'ua' } });
    expect(res.body).toBe('[["m1","m2"],"ua",["x-multi"]]\n');
  });

  it('setHeader / clearHeader change what later phases and $http_ see', async () => {
    const { res } = await run((ngx) => ngx.say(String(ngx.var.http_x_set), ' ', String(ngx.req.getHeaders()['user-agent'])), { url: '/', headers: { 'user-agent': 'ua' } }, {
      rewrite: (ngx: Ngx) => { ngx.req.setHeader('X-Set', 'v'); ngx.req.clearHeader('User-Agent'); },
    });
    expect(res.body).toBe('v undefined\n');
  });

  it('getUriArgs decodes; setUriArgs encodes', async () => {
    const { res } = await run((ngx) => {
      const a = ngx.req.getUriArgs();
      ngx.req.setUriArgs({ q: 'a b', t: true });
      ngx.say(JSON.stringify(a), ' ', ngx.var.args as string);
    }, '/?a=1&a=2&b&c=&d=x+y');
    expect(res.body).toBe('{"a":["1","2"],"b":true,"c":"","d":"x y"} q=a%20b&t\n');
  });

  it('getMethod / setMethod with names and ngx.HTTP_* numbers; bad methods refused', async () => {
    const { res } = await run((ngx) => {
      const before = ngx.req.getMethod();
      ngx.req.setMethod(ngx.HTTP_PUT);
      const mid = ngx.req.getMethod();
      ngx.req.setMethod('PATCH');
      ngx.say(before, mid, ngx.req.getMethod());
    }, { method: 'POST', url: '/' });
    expect(res.body).toBe('POSTPUTPATCH\n');
    const bad = await run((ngx) => ngx.req.setMethod(3));
    expect(bad.res.status).toBe(500);
  });

  it('readBody, getBodyData and getPostArgs', async () => {
    const { res } = await run(async (ngx) => {
      await ngx.req.readBody();
      ngx.say(ngx.req.getBodyData() as string, ' ', JSON.stringify(ngx.req.getPostArgs()));
    }, { method: 'POST', url: '/', body: 'a=1&b=two', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(res.body).toBe('a=1&b=two {"a":"1","b":"two"}\n');
  });

  it('getPostArgs before readBody fails with PHASEKIT_ERR_BODY_NOT_READ', async () => {
    const { res, logs } = await run((ngx) => ngx.req.getPostArgs(), { method: 'POST', url: '/', body: 'a=1' });
    expect(res.status).toBe(500);
    expect((logs[0]?.err as { cause?: { code?: string } }).cause?.code).toBe('PHASEKIT_ERR_BODY_NOT_READ');
  });

  it('a body over clientMaxBodySize answers 413', async () => {
    const { engine } = await engineWithLogs({
      clientMaxBodySize: 10,
      locations: [{ match: '/', content: async (ngx) => { await ngx.req.readBody(); ngx.say('read'); } }],
    });
    const res = await inject(engine, { method: 'POST', url: '/', body: 'x'.repeat(11) });
    expect(res.status).toBe(413);
    expect(res.body).toContain('413 Request Entity Too Large');
  });

  it('setUri with jump re-runs location matching from rewrite, keeping ctx', async () => {
    const { engine } = await engineWithLogs({
      locations: [
        { match: '/old', rewrite: (ngx) => { ngx.ctx.kept = 'yes'; ngx.req.setUri('/new', true); } },
        { match: '/new', content: (ngx) => ngx.say(ngx.var.uri as string, ' ', ngx.ctx.kept as string) },
      ],
    });
    expect((await inject(engine, '/old')).body).toBe('/new yes\n');
  });
});

describe('status, ctx, print', () => {
  it('ngx.status reads 0 before it is set; set status with empty body', async () => {
    let first = -1;
    const { res } = await run((ngx) => { first = ngx.status; ngx.status = 404; });
    expect(first).toBe(0);
    expect(res.status).toBe(404);
    expect(res.body).toBe('');
  });

  it('exit(2xx) keeps an earlier ngx.status', async () => {
    const { res } = await run((ngx) => { ngx.status = 201; return ngx.exit(200); });
    expect(res.status).toBe(201);
  });

  it('exit(204) sends no body, no Content-Type, and skips body_filter', async () => {
    let bodyFilterRan = false;
    const { res } = await run((ngx) => ngx.exit(204), '/', { bodyFilter: () => void (bodyFilterRan = true) });
    expect(res.status).toBe(204);
    expect(res.headers['content-type']).toBeUndefined();
    expect(bodyFilterRan).toBe(false);
  });

  it('exit with a status nginx has no page for sends an empty body', async () => {
    const { res } = await run((ngx) => ngx.exit(418));
    expect(res.status).toBe(418);
    expect(res.headers['content-length']).toBe('0');
  });

  it('after output, exit(403) keeps status 200 and logs why', async () => {
    const { res, logs } = await run((ngx) => { ngx.say('x'); return ngx.exit(403); });
    expect(res.status).toBe(200);
    expect(logs[0]?.message).toBe('attempt to set status 403 via ngx.exit after sending out the response status 200');
  });

  it('output in access finalizes the request when the handler returns: content does not run', async () => {
    const { engine } = await engineWithLogs({
      locations: [{ match: '/', access: (ngx) => { ngx.status = 201; ngx.say('from access'); }, content: (ngx) => ngx.say('content') }],
    });
    const res = await inject(engine, '/');
    expect(res.status).toBe(201);
    expect(res.body).toBe('from access\n');
  });

  it('exec and redirect after output fail (OpenResty sent the headers already); nothing was flushed, so a 500 page', async () => {
    const exec = await run((ngx) => { ngx.say('x'); ngx.exec('/y'); });
    expect(exec.res.status).toBe(500);
    expect(exec.logs[0]?.message).toContain('attempt to call ngx.exec after sending out response headers');
    const redirect = await run((ngx) => { ngx.say('x'); ngx.redirect('/y'); });
    expect(redirect.logs[0]?.message).toContain('attempt to call ngx.redirect after sending out the headers');
  });

  it('exec("") fails with OpenResty\'s message; exec to @named with args warns and drops them', async () => {
    const empty = await run((ngx) => ngx.exec(''));
    expect(empty.logs[0]?.message).toContain('The uri argument is empty');
    const { engine, logs } = await engineWithLogs({
      errorLogLevel: 'warn',
      locations: [{ match: '/', content: (ngx) => ngx.exec('@n', 'x=1') }, { match: '@n', content: (ngx) => ngx.say(String(ngx.var.args)) }],
    });
    expect((await inject(engine, '/?orig=1')).body).toBe('orig=1\n');
    expect(logs[0]).toMatchObject({ level: 'warn', message: "query strings x=1 ignored when exec'ing named location @n" });
  });

  it('exec without args drops the original query string', async () => {
    const { engine } = await engineWithLogs({
      locations: [{ match: '/a', content: (ngx) => ngx.exec('/b') }, { match: '/b', content: (ngx) => ngx.say(String(ngx.var.args)) }],
    });
    expect((await inject(engine, '/a?q=1')).body).toBe('undefined\n');
  });

  it('ctx is per request and may be replaced', async () => {
    const { engine } = await engineWithLogs({
      locations: [{
        match: '/',
        rewrite: (ngx) => { ngx.ctx = { n: Number(ngx.var.arg_n) }; },
        content: (ngx) => ngx.say(String(ngx.ctx.n)),
      }],
    });
    const [a, b] = await Promise.all([inject(engine, '/?n=1'), inject(engine, '/?n=2')]);
    expect([a.body, b.body]).toEqual(['1\n', '2\n']);
  });

  it('ngx.log writes through the engine logger with the request context', async () => {
    const { logs } = await run((ngx) => { ngx.log(ngx.ERR, 'bad ', 42, ' ', true); ngx.log(ngx.INFO, 'hidden'); ngx.say('x'); });
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatchObject({ level: 'error', message: 'bad 42 true', phase: 'content', request: 'GET / HTTP/1.1' });
  });

  it('ngx.now follows the engine clock', async () => {
    const { engine } = await engineWithLogs(
      { locations: [{ match: '/', content: (ngx) => ngx.say(String(ngx.now())) }] },
      { clock: { now: () => 1_700_000_000_123, schedule: () => () => undefined } },
    );
    expect((await inject(engine, '/')).body).toBe('1700000000.123\n');
  });
});
