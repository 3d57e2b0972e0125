// The request state machine: phase order, exit/exec/redirect rules, failures.
import { describe, expect, it } from 'vitest';
import type { Ngx } from '@phasekit/core';
import { inject } from '@phasekit/testing';
import { engineWithLogs } from './helpers.js';

describe('phase order', () => {
  it('walks set → rewrite → access → content → header_filter → body_filter → log', async () => {
    const seen: string[] = [];
    const mark = (ngx: Ngx) => void seen.push(ngx.getPhase());
    const { engine } = await engineWithLogs({
      locations: [{
        match: '/',
        vars: { v: '' },
        set: [{ var: 'v', handler: (ngx) => (mark(ngx), 'x') }],
        rewrite: mark, access: mark,
        content: (ngx) => { mark(ngx); ngx.say('hi'); },
        headerFilter: mark, bodyFilter: mark, log: mark,
      }],
    });
    const res = await inject(engine, '/');
    expect(res.body).toBe('hi\n');
    // body_filter: once for the output call, once more with "" and eof.
    expect(seen).toEqual(['set', 'rewrite', 'access', 'content', 'header_filter', 'body_filter', 'body_filter', 'log']);
  });

  it('async handlers wait, and requests interleave', async () => {
    const { engine } = await engineWithLogs({
      locations: [{
        match: '/',
        access: async (ngx) => { await new Promise((r) => setTimeout(r, Number(ngx.var.arg_d))); ngx.ctx.d = ngx.var.arg_d; },
        content: (ngx) => ngx.say(ngx.ctx.d as string),
      }],
    });
    const [a, b] = await Promise.all([inject(engine, '/?d=30'), inject(engine, '/?d=1')]);
    expect(a.body).toBe('30\n');
    expect(b.body).toBe('1\n');
  });
});

describe('set handlers', () => {
  it('store a string as is, a number formatted and anything else as "", as set_by_lua does', async () => {
    const results: Record<string, unknown> = { s: 'text', n: 4.5, u: undefined, b: true, z: null };
    const { engine } = await engineWithLogs({
      locations: [{
        match: '/',
        vars: { s: '', n: '', u: 'x', b: 'x', z: 'x' },
        set: Object.keys(results).map((name) => ({ var: name, handler: () => results[name] as string })),
        content: (ngx) => ngx.say(['s', 'n', 'u', 'b', 'z'].map((v) => `${v}=[${String(ngx.var[v])}]`).join(' ')),
      }],
    });
    expect((await inject(engine, '/')).body).toBe('s=[text] n=[4.5] u=[] b=[] z=[]\n');
  });

  it('a lone variable that is not found passes undefined; in text it reads ""', async () => {
    const seen: unknown[] = [];
    const { engine } = await engineWithLogs({
      locations: [{
        match: '/',
        vars: { v: '' },
        set: [{ var: 'v', args: ['$arg_none', '<$arg_none>', '$arg_a'], handler: (_ngx, ...args) => (seen.push(...args), 'ok') }],
        content: (ngx) => ngx.say(ngx.var.v),
      }],
    });
    await inject(engine, '/?a=1');
    expect(seen).toEqual([undefined, '<>', '1']);
  });
});

describe('ngx.exit', () => {
  it('exit(OK) in rewrite and access goes on to content', async () => {
    const { engine } = await engineWithLogs({
      locations: [{ match: '/', rewrite: (ngx) => ngx.exit(ngx.OK), access: (ngx) => ngx.exit(0), content: (ngx) => ngx.say('content') }],
    });
    expect((await inject(engine, '/')).body).toBe('content\n');
  });

  it('exit(403) in access skips content, serves the default page, and still runs the filters and log', async () => {
    const seen: string[] = [];
    let logStatus = '';
    const { engine } = await engineWithLogs({
      locations: [{
        match: '/',
        access: (ngx) => ngx.exit(403),
        content: () => void seen.push('content'),
        headerFilter: (ngx) => { seen.push(`hf:${ngx.status}`); ngx.header['X-Filtered'] = '1'; },
        bodyFilter: (ngx) => void seen.push(`bf:${ngx.arg.eof}`),
        log: (ngx) => { logStatus = ngx.var.status as string; },
      }],
    });
    const res = await inject(engine, '/');
    expect(res.status).toBe(403);
    expect(res.headers['content-type']).toBe('text/html');
    expect(res.headers['x-filtered']).toBe('1');
    expect(res.body).toContain('<title>403 Forbidden</title>');
    expect(seen).toEqual(['hf:403', 'bf:true']);
    expect(logStatus).toBe('403');
  });

  it('exit(200) in access after output answers with that output', async () => {
    const { engine } = await engineWithLogs({
      locations: [{ match: '/', access: (ngx) => { ngx.say('from access'); return ngx.exit(200); }, content: (ngx) => ngx.say('no') }],
    });
    const res = await inject(engine, '/');
    expect(res.status).toBe(200);
    expect(res.body).toBe('from access\n');
  });

  it('exit(status) in content after output keeps the output status', async () => {
    const { engine } = await engineWithLogs({
      locations: [{ match: '/', content: (ngx) => { ngx.status = 201; ngx.say('made'); return ngx.exit(404); } }],
    });
    const res = await inject(engine, '/');
    expect(res.status).toBe(201);
    expect(res.body).toBe('made\n');
  });

  it('exit(ERROR) closes the connection without a response, log still runs', async () => {
    let logged = false;
    const { engine } = await engineWithLogs({
      locations: [{ match: '/', access: (ngx) => ngx.exit(ngx.ERROR), log: () => void (logged = true) }],
    });
    const res = await inject(engine, '/');
    expect(res.aborted).toBe(true);
    expect(logged).toBe(true);
  });

  it('exit(444) closes the connection too', async () => {
    const { engine } = await engineWithLogs({ locations: [{ match: '/', content: (ngx) => ngx.exit(444) }] });
    expect((await inject(engine, '/')).aborted).toBe(true);
  });
});

describe('ngx.exec', () => {
  it('restarts at rewrite in the new location with an empty ctx', async () => {
    const seen: string[] = [];
    const { engine } = await engineWithLogs({
      locations: [
        { match: '/a', rewrite: (ngx) => { ngx.ctx.x = 1; seen.push('a'); return ngx.exec('/b', { q: 'v w' }); } },
        {
          match: '/b',
          rewrite: (ngx) => void seen.push(`b:${String(ngx.ctx.x)}`),
          content: (ngx) => ngx.say(ngx.var.uri, ' ', ngx.var.args, ' ', ngx.var.request_uri),
        },
      ],
    });
    const res = await inject(engine, '/a?orig=1');
    expect(res.body).toBe('/b q=v%20w /a?orig=1\n');
    expect(seen).toEqual(['a', 'b:undefined']);
  });

  it('reaches named and internal locations', async () => {
    const { engine } = await engineWithLogs({
      locations: [
        { match: '/a', content: (ngx) => ngx.exec('@named') },
        { match: '@named', content: (ngx) => ngx.exec('/secret') },
        { match: '/secret', internal: true, content: (ngx) => ngx.say('secret') },
      ],
    });
    expect((await inject(engine, '/a')).body).toBe('secret\n');
    expect((await inject(engine, '/secret')).status).toBe(404);
  });

  it('an exec loop ends with 500 after the redirect limit', async () => {
    const { engine, logs } = await engineWithLogs({
      locations: [{ match: '/a', rewrite: (ngx) => ngx.exec('/b') }, { match: '/b', rewrite: (ngx) => ngx.exec('/a') }],
    });
    expect((await inject(engine, '/a')).status).toBe(500);
    expect(logs.some((l) => l.message.includes('rewrite or internal redirection cycle'))).toBe(true);
  });

  it('an unknown named location is a 500 with PHASEKIT_ERR_NO_LOCATION logged', async () => {
    const { engine, logs } = await engineWithLogs({ locations: [{ match: '/', content: (ngx) => ngx.exec('@nope') }] });
    expect((await inject(engine, '/')).status).toBe(500);
    expect(logs.map((l) => (l.err as { code?: string } | undefined)?.code)).toContain('PHASEKIT_ERR_NO_LOCATION');
  });
});

describe('ngx.redirect', () => {
  it('answers 302 with Location by default, other allowed statuses too', async () => {
    const { engine } = await engineWithLogs({
      locations: [
        { match: '= /a', access: (ngx) => ngx.redirect('/b') },
        { match: '= /p', content: (ngx) => ngx.redirect('https://x.example/y', 301) },
      ],
    });
    const a = await inject(engine, '/a');
    expect(a.status).toBe(302);
    expect(a.headers.location).toBe('/b');
    expect(a.body).toContain('<title>302 Found</title>');
    const p = await inject(engine, '/p');
    expect(p.status).toBe(301);
    expect(p.headers.location).toBe('https://x.example/y');
  });

  it.each([200, 404, 300])('refuses status %i with a bad-argument error (500)', async (status) => {
    const { engine, logs } = await engineWithLogs({ locations: [{ match: '/', content: (ngx) => ngx.redirect('/x', status) }] });
    expect((await inject(engine, '/')).status).toBe(500);
    expect(logs[0]?.message).toContain('only ngx.HTTP_MOVED_TEMPORARILY');
  });

  it('rejects CR/LF in the URL (no header injection)', async () => {
    const { engine, logs } = await engineWithLogs({ locations: [{ match: '/', content: (ngx) => ngx.redirect('/x\r\nSet-Cookie: a=1') }] });
    const res = await inject(engine, '/');
    expect(res.status).toBe(500);
    expect(res.headers['set-cookie']).toBeUndefined();
    expect((logs[0]?.err as { cause?: { code?: string } }).cause?.code).toBe('PHASEKIT_ERR_BAD_ARGUMENT');
  });
});

describe('failures', () => {
  it('a handler that throws gives 500, is logged, and the next request is fine', async () => {
    const { engine, logs } = await engineWithLogs({
      locations: [{ match: '/', content: (ngx) => { if (ngx.var.arg_boom) throw new Error('boom'); ngx.say('ok'); } }],
    });
    const bad = await inject(engine, '/?boom=1');
    expect(bad.status).toBe(500);
    expect(bad.body).toContain('500 Internal Server Error');
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatchObject({ level: 'error', phase: 'content', location: '/' });
    expect(logs[0]?.message).toContain('boom');
    expect((logs[0]?.err as { code?: string }).code).toBe('PHASEKIT_ERR_HANDLER');
    const good = await inject(engine, '/');
    expect(good.status).toBe(200);
    expect(good.body).toBe('ok\n');
  });

  it('a rejected promise is a failure too', async () => {
    const { engine } = await engineWithLogs({ locations: [{ match: '/', access: async () => { throw new Error('later'); } }] });
    expect((await inject(engine, '/')).status).toBe(500);
  });

  it('an async header_filter is refused (no yield there): the connection closes, as on any header_filter error', async () => {
    const { engine, logs } = await engineWithLogs({
      locations: [{ match: '/', content: (ngx) => ngx.say('x'), headerFilter: async () => undefined }],
    });
    expect((await inject(engine, '/')).aborted).toBe(true);
    expect(logs[0]?.message).toContain('must not be async');
  });

  it('handler:error and request events fire', async () => {
    const { engine } = await engineWithLogs({ locations: [{ match: '/', content: () => { throw new Error('x'); } }] });
    const events: string[] = [];
    engine.on('request:start', () => events.push('start'));
    engine.on('handler:error', (e) => events.push(`error:${e.phase}`));
    engine.on('request:end', (e) => events.push(`end:${e.status}`));
    await inject(engine, '/');
    expect(events).toEqual(['start', 'error:content', 'end:500']);
  });
});

describe('responses', () => {
  it('no content handler → 404 page', async () => {
    const { engine } = await engineWithLogs({ locations: [{ match: '/', access: () => undefined }] });
    const res = await inject(engine, '/x');
    expect(res.status).toBe(404);
    expect(res.body).toContain('404 Not Found');
  });

  it('default Content-Type is text/plain, configurable per engine and location', async () => {
    const { engine } = await engineWithLogs({
      defaultType: 'application/octet-stream',
      locations: [{ match: '/a', content: (ngx) => ngx.print('a') }, { match: '/b', defaultType: 'text/x-b', content: (ngx) => ngx.print('b') }],
    });
    expect((await inject(engine, '/a')).headers['content-type']).toBe('application/octet-stream');
    expect((await inject(engine, '/b')).headers['content-type']).toBe('text/x-b');
    const { engine: plain } = await engineWithLogs({ locations: [{ match: '/', content: (ngx) => ngx.print('a') }] });
    expect((await inject(plain, '/')).headers['content-type']).toBe('text/plain');
  });

  it('HEAD sends headers with Content-Length but no body', async () => {
    const { engine } = await engineWithLogs({ locations: [{ match: '/', content: (ngx) => ngx.say('hello') }] });
    const res = await inject(engine, { method: 'HEAD', url: '/' });
    expect(res.status).toBe(200);
    expect(res.headers['content-length']).toBe('6');
    expect(res.body).toBe('');
  });

  it('body_filter rewrites the body and Content-Length follows', async () => {
    const { engine } = await engineWithLogs({
      locations: [{
        match: '/',
        content: (ngx) => ngx.say('hello'),
        bodyFilter: (ngx) => { ngx.arg.chunk = String(ngx.arg.chunk).toUpperCase() + '!'; },
      }],
    });
    const res = await inject(engine, '/');
    // Called for the say and for the final eof: "!" twice, and the length counts what went out.
    expect(res.body).toBe('HELLO\n!!');
    expect(res.headers['content-length']).toBe('8');
  });

  it('body_filter returning ngx.ERROR aborts the response', async () => {
    const { engine } = await engineWithLogs({
      locations: [{ match: '/', content: (ngx) => ngx.say('x'), bodyFilter: (ngx) => ngx.ERROR }],
    });
    expect((await inject(engine, '/')).aborted).toBe(true);
  });

  it('binary output round-trips', async () => {
    const bytes = new Uint8Array(256).map((_, i) => i);
    const { engine } = await engineWithLogs({ locations: [{ match: '/', content: (ngx) => ngx.print(bytes) }] });
    const res = await inject(engine, '/');
    expect(Buffer.compare(res.rawBody, Buffer.from(bytes))).toBe(0);
  });

  it('a path no location covers is not handled (falls through)', async () => {
    const { engine } = await engineWithLogs({ locations: [{ match: '/api', content: (ngx) => ngx.say('api') }] });
    expect((await inject(engine, '/other')).status).toBe(404);
    expect((await inject(engine, '/api/x')).body).toBe('api\n');
  });
});

describe('events and diagnostics channels', () => {
  it('phase:start and phase:end fire per phase, and phasekit:* channels publish the same', async () => {
    const { subscribe, unsubscribe } = await import('node:diagnostics_channel');
    const { engine } = await engineWithLogs({ locations: [{ match: '/', access: () => undefined, content: (ngx) => ngx.say('x') }] });
    const events: string[] = [];
    engine.on('phase:start', (e) => events.push(`start:${e.phase}`));
    engine.on('phase:end', (e) => events.push(`end:${e.phase}`));
    const published: string[] = [];
    const onStart = (msg: unknown) => published.push(`request:start ${(msg as { uri: string }).uri}`);
    const onEnd = (msg: unknown) => published.push(`request:end ${(msg as { status: number }).status}`);
    subscribe('phasekit:request:start', onStart);
    subscribe('phasekit:request:end', onEnd);
    try {
      await inject(engine, '/x');
    } finally {
      unsubscribe('phasekit:request:start', onStart);
      unsubscribe('phasekit:request:end', onEnd);
    }
    expect(events).toEqual(['start:access', 'end:access', 'start:content', 'end:content']);
    expect(published).toEqual(['request:start /x', 'request:end 200']);
  });
});
