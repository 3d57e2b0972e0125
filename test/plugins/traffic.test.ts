// rate-limiting, ip-restriction, request-size-limiting: limits, windows, statuses and bodies.
import { afterEach, describe, expect, it } from 'vitest';
import { createClock, definePlugin, inject, type EngineConfig, type Ngx, type SharedDict } from 'phasekit';
import { pluginEngine, startError } from './helpers.js';

const ok = (ngx: Ngx) => ngx.say('ok');
const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

async function engineWith(config: EngineConfig, options: Parameters<typeof pluginEngine>[1] = {}) {
  const r = await pluginEngine(config, options);
  closers.push(() => r.engine.close());
  return r;
}

describe('rate-limiting', () => {
  // 2026-01-01T00:00:50Z: 10 s before a minute ends.
  const start = Date.UTC(2026, 0, 1, 0, 0, 50);

  it('counts per window and answers 429 with Kong\'s headers and body; a new window starts over', async () => {
    const clock = createClock(start);
    const { engine } = await engineWith(
      { sharedDicts: { rate_limiting_counters: '1m' }, locations: [{ match: '/', plugins: [{ name: 'rate-limiting', config: { minute: 2, hour: 5 } }], content: ok }] },
      { clock },
    );
    const first = await inject(engine, '/');
    expect(first.status).toBe(200);
    expect(first.headers).toMatchObject({
      'x-ratelimit-limit-minute': '2',
      'x-ratelimit-remaining-minute': '1',
      'x-ratelimit-limit-hour': '5',
      'x-ratelimit-remaining-hour': '4',
      'ratelimit-limit': '2',
      'ratelimit-remaining': '1',
      'ratelimit-reset': '10',
    });
    expect(first.headers['retry-after']).toBeUndefined();
    expect((await inject(engine, '/')).headers['x-ratelimit-remaining-minute']).toBe('0');
    const limited = await inject(engine, '/');
    expect(limited.status).toBe(429);
    expect(JSON.parse(limited.body)).toEqual({ message: 'API rate limit exceeded' });
    expect(limited.headers).toMatchObject({ 'retry-after': '10', 'ratelimit-reset': '10', 'x-ratelimit-remaining-minute': '0', 'x-ratelimit-remaining-hour': '3' });
    // The next minute: the minute window starts over, the hour keeps counting (the 429 was not counted).
    await clock.tick(10_000);
    const next = await inject(engine, '/');
    expect(next.status).toBe(200);
    expect(next.headers).toMatchObject({ 'x-ratelimit-remaining-minute': '1', 'x-ratelimit-remaining-hour': '2', 'ratelimit-reset': '60' });
  });

  it('a second window, and hide_client_headers, error_code and error_message', async () => {
    const clock = createClock(start);
    const { engine } = await engineWith(
      {
        sharedDicts: { counters: '1m' },
        locations: [{ match: '/', plugins: [{ name: 'rate-limiting', config: { second: 1, dict: 'counters', hide_client_headers: true, error_code: 503, error_message: 'slow down' } }], content: ok }],
      },
      { clock },
    );
    const a = await inject(engine, '/');
    expect(a.status).toBe(200);
    expect(Object.keys(a.headers).filter((h) => h.toLowerCase().includes('ratelimit'))).toEqual([]);
    const b = await inject(engine, '/');
    expect([b.status, JSON.parse(b.body), b.headers['retry-after']]).toEqual([503, { message: 'slow down' }, undefined]);
    await clock.tick(1000);
    expect((await inject(engine, '/')).status).toBe(200);
  });

  it('limits per consumer (falling back to the IP), per header and per path', async () => {
    const clock = createClock(start);
    const { engine } = await engineWith(
      {
        sharedDicts: { rate_limiting_counters: '1m' },
        consumers: [{ username: 'a', keyauth_credentials: [{ key: 'ka' }] }, { username: 'b', keyauth_credentials: [{ key: 'kb' }] }],
        locations: [
          { match: '/consumer', plugins: [{ name: 'key-auth', config: { anonymous: 'a' } }, { name: 'rate-limiting', config: { minute: 1 } }], content: ok },
          { match: '/ip', plugins: [{ name: 'rate-limiting', config: { minute: 1, limit_by: 'ip' } }], content: ok },
          { match: '/header', plugins: [{ name: 'rate-limiting', config: { minute: 1, limit_by: 'header', header_name: 'x-tenant' } }], content: ok },
          { match: '/path', plugins: [{ name: 'rate-limiting', config: { minute: 1, limit_by: 'path', path: '/path/one' } }], content: ok },
        ],
      },
      { clock },
    );
    const statuses = async (reqs: Parameters<typeof inject>[1][]) => {
      const out: number[] = [];
      for (const r of reqs) out.push((await inject(engine, r)).status);
      return out;
    };
    expect(await statuses([{ url: '/consumer', headers: { apikey: 'kb' } }, { url: '/consumer', headers: { apikey: 'kb' } }, { url: '/consumer', headers: { apikey: 'ka' } }])).toEqual([200, 429, 200]);
    expect(await statuses([{ url: '/ip', remoteAddress: '10.0.0.1' }, { url: '/ip', remoteAddress: '10.0.0.2' }, { url: '/ip', remoteAddress: '10.0.0.1' }])).toEqual([200, 200, 429]);
    expect(await statuses([{ url: '/header', headers: { 'x-tenant': 't1' } }, { url: '/header', headers: { 'x-tenant': 't2' } }, { url: '/header', headers: { 'x-tenant': 't1' } }])).toEqual([200, 200, 429]);
    expect(await statuses(['/path/one', '/path/one'])).toEqual([200, 429]);
  });

  it('checks its conf: a limit, positive, the bigger window not smaller; header_name for limit_by header', async () => {
    const err = await startError({
      sharedDicts: { rate_limiting_counters: '1m' },
      locations: [
        { match: '/a', content: ok },
        { match: '/b', plugins: [{ name: 'rate-limiting', config: { second: -1 } }], content: ok },
        { match: '/c', plugins: [{ name: 'rate-limiting', config: {} }], content: ok },
        { match: '/d', plugins: [{ name: 'rate-limiting', config: { second: 10, minute: 5, limit_by: 'header', policy: 'cluster' } }], content: ok },
        { match: '/e', plugins: [{ name: 'rate-limiting', config: { minute: 5, dict: 'missing' } }], content: ok },
      ],
    });
    expect(err.issues).toEqual([
      { path: 'locations[1].plugins[0].config.second', message: 'expected number > 0' },
      { path: 'locations[2].plugins[0].config', message: 'expected at least one of second, minute, hour, day, month, year' },
      { path: 'locations[3].plugins[0].config.policy', message: expect.stringContaining('"local"') },
      { path: 'locations[4].plugins[0].config.dict', message: 'shared dict "missing" is not declared (add it to sharedDicts)' },
    ]);
    const err2 = await startError({ sharedDicts: { rate_limiting_counters: '1m' }, locations: [{ match: '/', plugins: [{ name: 'rate-limiting', config: { second: 10, minute: 5, limit_by: 'header' } }], content: ok }] });
    expect(err2.issues).toEqual([
      { path: 'locations[0].plugins[0].config.header_name', message: 'required when limit_by is "header"' },
      { path: 'locations[0].plugins[0].config.minute', message: "expected a limit not smaller than second's (10)" },
    ]);
  });

  it('a store that answers with promises (as a Redis-backed dict would) is awaited; its failure follows fault_tolerant', async () => {
    const clock = createClock(start);
    // Stand-ins for an asynchronous shared dict store: same methods, promises of the same tuples.
    const counts = new Map<string, number>();
    let failing = false;
    const asyncDict = {
      name: 'remote',
      incr: async (k: string, v: number) => {
        if (failing) throw new Error('connection refused');
        counts.set(k, (counts.get(k) ?? 0) + v);
        return [counts.get(k), undefined, false];
      },
    } as unknown as SharedDict;
    const { engine, messages } = await engineWith(
      {
        sharedDicts: {},
        locations: [
          { match: '/tolerant', plugins: [{ name: 'rate-limiting', config: { minute: 1, dict: 'remote' } }], content: ok },
          { match: '/strict', plugins: [{ name: 'rate-limiting', config: { minute: 1, dict: 'remote', fault_tolerant: false } }], content: ok },
        ],
      },
      { clock, sharedDicts: { remote: asyncDict } },
    );
    expect((await inject(engine, '/tolerant')).status).toBe(200);
    await new Promise((r) => setImmediate(r));
    expect((await inject(engine, '/tolerant')).status).toBe(429);
    await new Promise((r) => setImmediate(r));
    // Counted first, then taken back: the refused request does not count.
    expect([...counts.values()]).toEqual([1]);
    failing = true;
    expect((await inject(engine, '/tolerant')).status).toBe(200);
    const strict = await inject(engine, '/strict');
    expect([strict.status, JSON.parse(strict.body)]).toEqual([500, { message: 'An unexpected error occurred' }]);
    expect(messages().join('\n')).toContain('rate-limiting: failed to get usage from dict "remote": connection refused');
  });
});

describe('ip-restriction', () => {
  it('allow and deny lists with CIDR ranges, IPv4 and IPv6 (IPv4-mapped addresses match IPv4 rules)', async () => {
    const { engine } = await engineWith({
      locations: [
        { match: '/allow', plugins: [{ name: 'ip-restriction', config: { allow: ['10.0.0.0/8', '2001:db8::/32', '192.168.1.7'] } }], content: ok },
        { match: '/deny', plugins: [{ name: 'ip-restriction', config: { deny: ['10.1.0.0/16', '::1'], status: 401, message: 'go away' } }], content: ok },
      ],
    });
    const at = async (url: string, remoteAddress: string) => {
      const r = await inject(engine, { url, remoteAddress });
      return r.status === 200 ? 200 : [r.status, JSON.parse(r.body)];
    };
    expect(await at('/allow', '10.2.3.4')).toBe(200);
    expect(await at('/allow', '::ffff:10.2.3.4')).toBe(200);
    expect(await at('/allow', '2001:db8:1::5')).toBe(200);
    expect(await at('/allow', '192.168.1.7')).toBe(200);
    expect(await at('/allow', '192.168.1.8')).toEqual([403, { message: 'Your IP address is not allowed' }]);
    expect(await at('/allow', '2001:db9::1')).toEqual([403, { message: 'Your IP address is not allowed' }]);
    expect(await at('/deny', '10.1.200.1')).toEqual([401, { message: 'go away' }]);
    expect(await at('/deny', '::1')).toEqual([401, { message: 'go away' }]);
    expect(await at('/deny', '10.2.0.1')).toBe(200);
  });

  it('refuses bad addresses and an empty config', async () => {
    const err = await startError({ locations: [{ match: '/', plugins: [{ name: 'ip-restriction', config: { allow: ['10.0.0.0/33', 'nope'] } }], content: ok }, { match: '/b', plugins: [{ name: 'ip-restriction' }], content: ok }] });
    expect(err.issues).toEqual([
      { path: 'locations[0].plugins[0].config.allow[0]', message: expect.stringContaining('expected an IP address or a CIDR range') },
      { path: 'locations[0].plugins[0].config.allow[1]', message: expect.stringContaining('expected an IP address or a CIDR range') },
      { path: 'locations[1].plugins[0].config', message: 'expected at least one of allow, deny' },
    ]);
  });
});

describe('request-size-limiting', () => {
  it('413 over the limit by Content-Length or by the body read (chunked); 411 without a length when required', async () => {
    const { engine } = await engineWith({
      locations: [
        { match: '/small', plugins: [{ name: 'request-size-limiting', config: { allowed_payload_size: 10, size_unit: 'bytes' } }], content: ok },
        { match: '/need', plugins: [{ name: 'request-size-limiting', config: { require_content_length: true } }], content: ok },
      ],
    });
    const post = (url: string, body: string, headers: Record<string, string> = {}) => inject(engine, { method: 'POST', url, body, headers });
    expect((await post('/small', '0123456789')).status).toBe(200);
    const big = await post('/small', '0123456789A');
    expect([big.status, JSON.parse(big.body)]).toEqual([413, { message: 'Request size limit exceeded' }]);
    const chunked = await inject(engine, { method: 'POST', url: '/small', body: '0123456789AB', headers: { 'transfer-encoding': 'chunked' } });
    expect(chunked.status).toBe(413);
    const none = await inject(engine, { method: 'GET', url: '/need' });
    expect([none.status, JSON.parse(none.body)]).toEqual([411, { message: 'A valid Content-Length header is required' }]);
    expect((await post('/need', 'x')).status).toBe(200);
  });
});

describe('a TS plugin on async steps', () => {
  it('waits for an async access method before the next plugin', async () => {
    const order: string[] = [];
    const slow = definePlugin({ name: 'slow', priority: 2, access: async () => { await new Promise((r) => setTimeout(r, 5)); order.push('slow'); } });
    const fast = definePlugin({ name: 'fast', priority: 1, access: () => void order.push('fast') });
    const { engine } = await engineWith({ locations: [{ match: '/', plugins: [{ name: 'fast' }, { name: 'slow' }], content: ok }] }, { plugins: [slow, fast] });
    expect((await inject(engine, '/')).status).toBe(200);
    expect(order).toEqual(['slow', 'fast']);
  });
});
