// cors, request-transformer, response-transformer, correlation-id and prometheus.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject, type Engine, type Ngx } from 'phasekit';
import { echoBackend, pluginEngine, startError, type Echo } from './helpers.js';

let backend: Echo;
let engine: Engine;

beforeAll(async () => {
  backend = await echoBackend();
  const r = await pluginEngine({
    sharedDicts: { prometheus_metrics: '1m' },
    upstreams: { backend: { servers: [backend.address] } },
    plugins: [{ name: 'prometheus' }],
    locations: [
      { match: '/cors-any/', plugins: [{ name: 'cors' }], content: (ngx: Ngx) => ngx.say('any') },
      {
        match: '/cors/',
        plugins: [{ name: 'cors', config: { origins: ['http://a.example', 'https://.*\\.b\\.example'], methods: ['GET', 'POST'], exposed_headers: ['X-Total'], credentials: true, max_age: 600 } }],
        content: (ngx: Ngx) => ngx.say('cors'),
      },
      { match: '/cors-headers/', plugins: [{ name: 'cors', config: { headers: ['X-One', 'X-Two'], preflight_continue: true } }], content: (ngx: Ngx) => ngx.say(ngx.req.getMethod()) },
      {
        match: '/req/',
        plugins: [
          {
            name: 'request-transformer',
            config: {
              http_method: 'POST',
              remove: { headers: ['x-drop'], querystring: ['drop'] },
              rename: { headers: ['x-old:x-new'], querystring: ['old:new'] },
              replace: { headers: ['x-rep:replaced', 'x-absent:never'], querystring: ['rep:replaced'], uri: '/elsewhere' },
              add: { headers: ['x-add:added', 'x-keep:not-this'], querystring: ['add:1'] },
              append: { headers: ['x-app:two'], querystring: ['app:2'] },
            },
          },
        ],
        proxyPass: 'http://backend',
      },
      {
        match: '/res/',
        plugins: [
          {
            name: 'response-transformer',
            config: {
              remove: { headers: ['x-upstream-only'] },
              rename: { headers: ['x-backend:x-served-by'] },
              replace: { headers: ['content-type:application/vnd.echo+json', 'x-absent:never'] },
              add: { headers: ['x-added:1', 'content-type:not-this'] },
              append: { headers: ['x-multi:a', 'x-multi:b'] },
            },
          },
        ],
        proxyPass: 'http://backend',
      },
      { match: '/cid/', plugins: [{ name: 'correlation-id', config: { echo_downstream: true } }], proxyPass: 'http://backend' },
      { match: '/cid-uuid/', plugins: [{ name: 'correlation-id', config: { generator: 'uuid', header_name: 'X-Request-ID' } }], proxyPass: 'http://backend' },
      { match: '/cid-tracker/', plugins: [{ name: 'correlation-id', config: { generator: 'tracker', echo_downstream: true } }], content: (ngx: Ngx) => ngx.say('t') },
      { match: '/plain/', content: (ngx: Ngx) => ngx.say('plain') },
      { match: '= /metrics', prometheusMetrics: true },
    ],
  });
  engine = r.engine;
});
afterAll(async () => {
  await engine.close();
  await backend.close();
});

const upstream = (body: string) => JSON.parse(body) as { method: string; url: string; headers: Record<string, string> };

describe('cors', () => {
  it('answers a preflight with 200 and the Access-Control-Allow-* headers; the content does not run', async () => {
    const res = await inject(engine, { method: 'OPTIONS', url: '/cors/x', headers: { origin: 'http://a.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'X-Custom' } });
    expect(res.status).toBe(200);
    expect(res.body).toBe('');
    expect(res.headers).toMatchObject({
      'access-control-allow-origin': 'http://a.example',
      'access-control-allow-credentials': 'true',
      'access-control-allow-methods': 'GET,POST',
      'access-control-allow-headers': 'X-Custom',
      'access-control-max-age': '600',
      vary: 'Origin',
    });
  });

  it('adds Allow-Origin (exact or by regular expression) and Expose-Headers to answers; nothing for other origins', async () => {
    const ok = await inject(engine, { url: '/cors/x', headers: { origin: 'https://app.b.example' } });
    expect(ok.headers).toMatchObject({ 'access-control-allow-origin': 'https://app.b.example', 'access-control-expose-headers': 'X-Total', vary: 'Origin' });
    const other = await inject(engine, { url: '/cors/x', headers: { origin: 'http://evil.example' } });
    expect(other.status).toBe(200);
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
    const any = await inject(engine, { url: '/cors-any/x', headers: { origin: 'http://z' } });
    expect(any.headers['access-control-allow-origin']).toBe('*');
  });

  it('configured headers, and preflight_continue passing the preflight on to the location', async () => {
    const res = await inject(engine, { method: 'OPTIONS', url: '/cors-headers/x', headers: { origin: 'http://z', 'access-control-request-method': 'GET' } });
    expect([res.status, res.body, res.headers['access-control-allow-origin']]).toEqual([200, 'OPTIONS\n', '*']);
  });

  it('refuses an origin that is not a valid regular expression', async () => {
    const err = await startError({ locations: [{ match: '/', plugins: [{ name: 'cors', config: { origins: ['http://(a'] } }], content: (ngx: Ngx) => ngx.say() }] });
    expect(err.issues).toEqual([{ path: 'locations[0].plugins[0].config.origins[0]', message: 'expected "*", an origin, or a valid regular expression' }]);
  });
});

describe('request-transformer', () => {
  it('removes, renames, replaces, adds and appends headers and query args (in that order); replaces method and URI', async () => {
    const res = await inject(engine, { url: '/req/x?drop=1&old=o&rep=r&keep=k&app=1', headers: { 'x-drop': '1', 'x-old': 'o', 'x-rep': 'r', 'x-keep': 'mine', 'x-app': 'one' } });
    const seen = upstream(res.body);
    expect(seen.method).toBe('POST');
    const url = new URL(seen.url, 'http://x');
    expect(url.pathname).toBe('/elsewhere');
    expect(Object.fromEntries([...new Set(url.searchParams.keys())].map((k) => [k, url.searchParams.getAll(k)]))).toEqual({ new: ['o'], rep: ['replaced'], keep: ['k'], app: ['1', '2'], add: ['1'] });
    expect(seen.headers['x-drop']).toBeUndefined();
    expect(seen.headers['x-old']).toBeUndefined();
    expect(seen.headers).toMatchObject({ 'x-new': 'o', 'x-rep': 'replaced', 'x-add': 'added', 'x-keep': 'mine', 'x-app': 'one, two' });
    expect(seen.headers['x-absent']).toBeUndefined();
  });

  it('refuses entries that are not name:value', async () => {
    const err = await startError({ locations: [{ match: '/', plugins: [{ name: 'request-transformer', config: { add: { headers: ['novalue'] }, rename: { querystring: ['a:b:c'] } } }], content: (ngx: Ngx) => ngx.say() }] });
    expect(err.issues).toEqual([
      { path: 'locations[0].plugins[0].config.rename.querystring[0]', message: 'expected "old:new"' },
      { path: 'locations[0].plugins[0].config.add.headers[0]', message: 'expected "name:value"' },
    ]);
  });
});

describe('response-transformer', () => {
  it('removes, renames, replaces, adds and appends response headers', async () => {
    const res = await inject(engine, '/res/x');
    expect(res.status).toBe(200);
    expect(res.headers['x-upstream-only']).toBeUndefined();
    expect(res.headers['x-backend']).toBeUndefined();
    expect(res.headers).toMatchObject({ 'x-served-by': 'echo', 'content-type': 'application/vnd.echo+json', 'x-added': '1', 'x-multi': ['a', 'b'] });
    expect(res.headers['x-absent']).toBeUndefined();
  });
});

describe('correlation-id', () => {
  it('sets Kong-Request-ID (uuid#counter) upstream and, with echo_downstream, on the answer; keeps one the client sent', async () => {
    const a = await inject(engine, '/cid/x');
    const b = await inject(engine, '/cid/x');
    const idA = upstream(a.body).headers['kong-request-id'] as string;
    expect(idA).toMatch(/^[0-9a-f-]{36}#\d+$/);
    expect(a.headers['kong-request-id']).toBe(idA);
    expect(Number((upstream(b.body).headers['kong-request-id'] as string).split('#')[1])).toBe(Number(idA.split('#')[1]) + 1);
    const given = await inject(engine, { url: '/cid/x', headers: { 'kong-request-id': 'mine' } });
    expect([upstream(given.body).headers['kong-request-id'], given.headers['kong-request-id']]).toEqual(['mine', 'mine']);
  });

  it('uuid and tracker generators', async () => {
    const u = await inject(engine, '/cid-uuid/x');
    expect(upstream(u.body).headers['x-request-id']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(u.headers['x-request-id']).toBeUndefined();
    const t = await inject(engine, '/cid-tracker/x');
    expect(t.headers['kong-request-id']).toMatch(/^[^-]*-\d+-\d+-\d+-\d+-\d+(\.\d+)?$/);
  });
});

describe('prometheus', () => {
  it('serves requests by location and status, a latency histogram, and upstream target health at /metrics', async () => {
    await inject(engine, '/plain/x');
    const res = await inject(engine, '/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    const lines = res.body.split('\n');
    expect(lines).toContain('# TYPE phasekit_http_requests_total counter');
    expect(lines).toContain('phasekit_http_requests_total{location="/plain/",route="",code="200"} 1');
    expect(lines).toContain('# TYPE phasekit_request_latency_ms histogram');
    const buckets = lines.filter((l) => l.startsWith('phasekit_request_latency_ms_bucket{location="/plain/"'));
    expect(buckets.at(-1)).toBe('phasekit_request_latency_ms_bucket{location="/plain/",route="",le="+Inf"} 1');
    expect(buckets).toHaveLength(16);
    expect(lines).toContain('phasekit_request_latency_ms_count{location="/plain/",route=""} 1');
    expect(lines).toContain(`phasekit_upstream_target_health{upstream="backend",target="${backend.address}",state="healthy"} 1`);
    expect(lines).toContain(`phasekit_upstream_target_health{upstream="backend",target="${backend.address}",state="unhealthy"} 0`);
    // Cumulative buckets never decrease.
    const counts = buckets.map((l) => Number(l.split(' ').at(-1)));
    expect(counts).toEqual([...counts].sort((x, y) => x - y));
  });
});
