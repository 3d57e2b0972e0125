// Each API refused outside its phases with OpenResty's exact text (observed on lua-nginx-module 0.10.23).
import { describe, expect, it } from 'vitest';
import { ApiDisabledError, checkApi, type Ngx } from '@phasekit/core';
import { inject } from '@phasekit/testing';
import { engineWithLogs } from './helpers.js';

type Call = [name: string, fn: (ngx: Ngx) => unknown];

const OUTPUT_CALLS: Call[] = [
  ['say', (ngx) => ngx.say('x')],
  ['print', (ngx) => ngx.print('x')],
  ['exec', (ngx) => ngx.exec('/x')],
  ['redirect', (ngx) => ngx.redirect('/x')],
  ['req.readBody', (ngx) => ngx.req.readBody()],
];

/** Runs `fn` in `phase` of a request and returns what it threw (or 'ok'). */
async function outcome(phase: 'set' | 'headerFilter' | 'bodyFilter' | 'log', fn: (ngx: Ngx) => unknown): Promise<string> {
  let result = 'not run';
  const probe = (ngx: Ngx) => {
    try {
      const r = fn(ngx);
      if (r instanceof Promise) r.catch(() => undefined);
      result = 'ok';
    } catch (err) {
      result = err instanceof ApiDisabledError ? `${err.code}: ${err.message}` : String(err);
    }
  };
  const location = phase === 'set'
    ? { match: '/', vars: { v: '' }, set: [{ var: 'v', handler: (ngx: Ngx) => (probe(ngx), '') }], content: (ngx: Ngx) => ngx.say('c') }
    : { match: '/', content: (ngx: Ngx) => ngx.say('c'), [phase]: probe };
  const { engine } = await engineWithLogs({ locations: [location] });
  await inject(engine, '/');
  return result;
}

describe('API disabled outside its phases', () => {
  const contexts = {
    set: 'set_by_lua*',
    headerFilter: 'header_filter_by_lua*',
    bodyFilter: 'body_filter_by_lua*',
    log: 'log_by_lua*',
  } as const;
  for (const [phase, context] of Object.entries(contexts) as [keyof typeof contexts, string][]) {
    for (const [name, fn] of OUTPUT_CALLS) {
      it(`${name} in ${phase}`, async () => {
        expect(await outcome(phase, fn)).toBe(`PHASEKIT_ERR_API_DISABLED: API disabled in the context of ${context}`);
      });
    }
  }

  it('exit is allowed in header_filter but not in body_filter or log', async () => {
    expect(await outcome('headerFilter', (ngx) => ngx.exit(200))).toBe('ok');
    expect(await outcome('bodyFilter', (ngx) => ngx.exit(200))).toBe('PHASEKIT_ERR_API_DISABLED: API disabled in the context of body_filter_by_lua*');
    expect(await outcome('log', (ngx) => ngx.exit(200))).toBe('PHASEKIT_ERR_API_DISABLED: API disabled in the context of log_by_lua*');
  });

  it('request reads and header changes work in every request phase', async () => {
    for (const phase of ['set', 'headerFilter', 'bodyFilter', 'log'] as const) {
      expect(await outcome(phase, (ngx) => [ngx.var.uri, ngx.req.getHeaders(), ngx.req.getMethod(), ngx.status, ngx.header.x, ngx.ctx])).toBe('ok');
      expect(await outcome(phase, (ngx) => ngx.req.setHeader('X-A', '1'))).toBe('ok');
    }
  });

  it('init and the request-less phases answer as OpenResty does', () => {
    const text = (api: Parameters<typeof checkApi>[0], phase: Parameters<typeof checkApi>[1]) => {
      try {
        checkApi(api, phase);
        return 'ok';
      } catch (err) {
        return (err as Error).message;
      }
    };
    expect(text('ngx.say', 'init')).toBe('no request object found');
    expect(text('ngx.req.get_headers', 'init')).toBe('no request found');
    expect(text('ngx.say', 'initWorker')).toBe('API disabled in the context of init_worker_by_lua*');
    expect(text('ngx.req.get_headers', 'timer')).toBe('API disabled in the current context');
    expect(text('ngx.say', 'timer')).toBe('API disabled in the context of ngx.timer');
    expect(text('ngx.sleep', 'timer')).toBe('ok');
    expect(text('ngx.shared', 'init')).toBe('ok');
    expect(text('ngx.log', 'init')).toBe('ok');
  });

  it('a disabled call that is not caught fails the request like any throw', async () => {
    const { engine, logs } = await engineWithLogs({ locations: [{ match: '/', vars: { v: '' }, set: [{ var: 'v', handler: (ngx) => (ngx.say('x'), '') }] }] });
    expect((await inject(engine, '/')).status).toBe(500);
    expect(logs[0]?.message).toContain('API disabled in the context of set_by_lua*');
  });
});
