// @phasekit/fastify over real sockets: engine locations beside Fastify routes, phases, inject(), encapsulation, logging.
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import Fastify, { type FastifyInstance } from 'fastify';
import { createEngine, type Engine, type EngineConfig, type LogEntry } from 'phasekit';
import { fastifyLogger, phasekit } from '@phasekit/fastify';
import { fetchText as get } from '../helpers.js';

const apps: FastifyInstance[] = [];
const engines: Engine[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
  await Promise.all(engines.splice(0).map((e) => e.close()));
});

async function engineOf(config: EngineConfig, logs: LogEntry[] = []): Promise<Engine> {
  const engine = await createEngine(config, { logger: (e) => logs.push(e) });
  engines.push(engine);
  return engine;
}

async function listen(app: FastifyInstance): Promise<string> {
  apps.push(app);
  return app.listen({ port: 0, host: '127.0.0.1' });
}

const statuses: string[] = [];
const config: EngineConfig = {
  locations: [
    {
      match: '= /hello',
      access: { lua: 'if ngx.var.arg_deny == "1" then return ngx.exit(403) end' },
      content: { lua: 'ngx.say("hello from lua")' },
      log: (ngx) => {
        statuses.push(ngx.var.status as string);
      },
    },
    {
      match: '/ts/',
      access: (ngx) => {
        if (ngx.var.http_x_deny) return ngx.exit(ngx.HTTP_FORBIDDEN);
      },
      content: (ngx) => ngx.say('ts ', ngx.var.uri as string),
    },
    {
      match: '= /filtered',
      content: { lua: 'ngx.say("quiet")' },
      headerFilter: { lua: 'ngx.header["X-Filtered"] = "yes"; ngx.header.content_length = nil; ngx.status = 202' },
      bodyFilter: { lua: 'ngx.arg[1] = string.upper(ngx.arg[1])' },
      log: { lua: 'ngx.shared.seen:set("status", ngx.var.status)' },
    },
    { match: '= /echo-lua', content: { lua: 'ngx.req.read_body() ngx.print("lua:", ngx.req.get_body_data() or "(none)")' } },
    {
      match: '= /echo-ts',
      content: async (ngx) => {
        await ngx.req.readBody();
        ngx.print('ts:', ngx.req.getBodyData() ?? '(none)');
      },
    },
    { match: '= /boom', content: { lua: 'error("boom")' } },
    { match: '= /warn', content: { lua: 'ngx.log(ngx.ERR, "careful") ngx.say("ok")' } },
  ],
  sharedDicts: { seen: '64k' },
};

function appWithRoutes(engine: Engine): FastifyInstance {
  const app = Fastify();
  app.register(phasekit, { engine });
  app.get('/app', async () => 'app');
  app.post('/app-json', async (req) => req.body);
  return app;
}

describe('@phasekit/fastify', () => {
  it('serves engine locations and leaves the app routes and 404s to Fastify', async () => {
    const engine = await engineOf(config);
    const base = await listen(appWithRoutes(engine));
    expect(await get(`${base}/hello`)).toMatchObject({ status: 200, body: 'hello from lua\n' });
    expect(await get(`${base}/ts/x`)).toMatchObject({ status: 200, body: 'ts /ts/x\n' });
    expect(await get(`${base}/app`)).toMatchObject({ status: 200, body: 'app' });
    const missing = await get(`${base}/nothing`);
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body)).toMatchObject({ message: 'Route GET:/nothing not found' });
    // An app route with a body Fastify parses: the plugin left it alone.
    const json = await get(`${base}/app-json`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
    expect(JSON.parse(json.body)).toEqual({ a: 1 });
  });

  it('access phase answers 403 from Lua and from TypeScript', async () => {
    const engine = await engineOf(config);
    const base = await listen(appWithRoutes(engine));
    const lua = await get(`${base}/hello?deny=1`);
    expect(lua.status).toBe(403);
    expect(lua.body).toContain('403 Forbidden');
    expect((await get(`${base}/ts/a`, { headers: { 'x-deny': '1' } })).status).toBe(403);
    expect((await get(`${base}/ts/a`)).status).toBe(200);
  });

  it('header_filter and body_filter apply to engine-served responses; log sees the final status', async () => {
    const engine = await engineOf(config);
    const base = await listen(appWithRoutes(engine));
    const res = await get(`${base}/filtered`);
    expect(res).toMatchObject({ status: 202, body: 'QUIET\n' });
    expect(res.headers['x-filtered']).toBe('yes');
    await vi.waitFor(() => expect(engine.sharedDicts.seen?.get('status')).toBe('202'));
    statuses.length = 0;
    await get(`${base}/hello?deny=1`);
    await get(`${base}/hello`);
    await vi.waitFor(() => expect(statuses).toEqual(['403', '200']));
  });

  it('reads the request body itself: Fastify has not parsed it in onRequest', async () => {
    const engine = await engineOf(config);
    const base = await listen(appWithRoutes(engine));
    const headers = { 'content-type': 'application/json' };
    expect(await get(`${base}/echo-lua`, { method: 'POST', headers, body: '{"a": 1}' })).toMatchObject({ status: 200, body: 'lua:{"a": 1}' });
    expect(await get(`${base}/echo-ts`, { method: 'POST', headers, body: 'not json at all' })).toMatchObject({ status: 200, body: 'ts:not json at all' });
    expect(await get(`${base}/echo-lua`, { method: 'POST', headers: { 'content-type': 'application/x-unknown' }, body: 'raw' })).toMatchObject({ body: 'lua:raw' });
  });

  it('works through Fastify inject(), without a socket', async () => {
    const engine = await engineOf(config);
    const app = appWithRoutes(engine);
    apps.push(app);
    const hello = await app.inject({ url: '/hello' });
    expect(hello.statusCode).toBe(200);
    expect(hello.body).toBe('hello from lua\n');
    expect((await app.inject({ url: '/hello?deny=1' })).statusCode).toBe(403);
    expect((await app.inject({ url: '/app' })).body).toBe('app');
    const echo = await app.inject({ method: 'POST', url: '/echo-lua', headers: { 'content-type': 'application/json' }, payload: '{"b":2}' });
    expect(echo.body).toBe('lua:{"b":2}');
  });

  it('a handler error is the engine 500 page; Fastify onResponse hooks still run', async () => {
    const engine = await engineOf(config);
    const app = Fastify();
    const seen: number[] = [];
    app.addHook('onResponse', (_req, reply, done) => {
      seen.push(reply.statusCode);
      done();
    });
    app.register(phasekit, { engine });
    const base = await listen(app);
    const res = await get(`${base}/boom`);
    expect(res.status).toBe(500);
    expect(res.body).toContain('500 Internal Server Error');
    await vi.waitFor(() => expect(seen).toEqual([500]));
  });

  it('a closed engine is an error for Fastify to answer', async () => {
    const engine = await engineOf(config);
    const app = appWithRoutes(engine);
    apps.push(app);
    await engine.close();
    const res = await app.inject({ url: '/hello' });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toMatchObject({ code: 'PHASEKIT_ERR_ENGINE_CLOSED' });
  });

  it('registering without an engine fails with PHASEKIT_ERR_BAD_ARGUMENT', async () => {
    const app = Fastify();
    apps.push(app);
    app.register(phasekit, {} as unknown as { engine: Engine });
    await expect(app.ready()).rejects.toMatchObject({ code: 'PHASEKIT_ERR_BAD_ARGUMENT' });
  });

  describe('encapsulation', () => {
    async function prefixedApp(engine: Engine, how: 'context' | 'option') {
      const app = Fastify();
      app.setNotFoundHandler((_req, reply) => {
        reply.code(404).send('app 404');
      });
      if (how === 'context') {
        app.register(
          async (gw) => {
            await gw.register(phasekit, { engine });
            gw.get('/status', async () => 'gw status');
          },
          { prefix: '/gw' },
        );
      } else {
        app.register(phasekit, { engine, prefix: '/gw' });
        app.get('/gw/status', async () => 'gw status');
      }
      app.get('/hello', async () => 'app hello');
      app.get('/ts/x', async () => 'app ts');
      return listen(app);
    }

    for (const how of ['context', 'option'] as const) {
      it(`in a prefixed context (${how === 'context' ? 'registered inside it' : 'the prefix option'}) serves only paths below the prefix`, async () => {
        const engine = await engineOf({
          locations: [
            ...config.locations,
            { match: '= /', content: (ngx) => ngx.say('gw root ', ngx.var.request_uri as string) },
          ],
        });
        const base = await prefixedApp(engine, how);
        // Below the prefix, locations match the path below it.
        expect(await get(`${base}/gw/hello`)).toMatchObject({ status: 200, body: 'hello from lua\n' });
        expect(await get(`${base}/gw/ts/x?a=1`)).toMatchObject({ status: 200, body: 'ts /ts/x\n' });
        expect((await get(`${base}/gw/hello?deny=1`)).status).toBe(403);
        expect(await get(`${base}/gw`)).toMatchObject({ status: 200, body: 'gw root /\n' });
        expect(await get(`${base}/gw/?q=1`)).toMatchObject({ status: 200, body: 'gw root /?q=1\n' });
        // Outside it, the engine is not involved.
        expect(await get(`${base}/hello`)).toMatchObject({ status: 200, body: 'app hello' });
        expect(await get(`${base}/ts/x`)).toMatchObject({ status: 200, body: 'app ts' });
        expect(await get(`${base}/gwx/hello`)).toMatchObject({ status: 404, body: 'app 404' });
        // The app's routes and 404 handler under the prefix.
        expect(await get(`${base}/gw/status`)).toMatchObject({ status: 200, body: 'gw status' });
        const declined = await get(`${base}/gw/nothing`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{not json' });
        expect(declined).toMatchObject({ status: 404, body: 'app 404' });
      });
    }

    it('in a context without a prefix, the engine sees only the requests routed to that context', async () => {
      const engine = await engineOf(config);
      const app = Fastify();
      app.register(async (scope) => {
        await scope.register(phasekit, { engine });
        scope.get('/hello', async () => 'scoped hello');
      });
      app.get('/ts/x', async () => 'app ts');
      const base = await listen(app);
      // A route of the context: its hooks run, the engine goes first.
      expect((await get(`${base}/hello`)).body).toBe('hello from lua\n');
      // A root route, and a path no route covers (the root's 404): Fastify's hook rules keep the engine out.
      expect((await get(`${base}/ts/x`)).body).toBe('app ts');
      expect((await get(`${base}/filtered`)).status).toBe(404);
    });

    it('registered at the root, the engine goes first where a location matches an app route too', async () => {
      const engine = await engineOf(config);
      const app = Fastify();
      app.register(phasekit, { engine });
      app.get('/hello', async () => 'app hello');
      const base = await listen(app);
      expect((await get(`${base}/hello`)).body).toBe('hello from lua\n');
    });
  });

  it('fastifyLogger sends the engine error log to Fastify\'s logger', async () => {
    const lines: Record<string, unknown>[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _enc, cb) {
        for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
        cb();
      },
    });
    const app = Fastify({ logger: { level: 'info', stream } });
    const engine = await createEngine(config, { logger: fastifyLogger(app.log) });
    engines.push(engine);
    app.register(phasekit, { engine });
    const base = await listen(app);
    await get(`${base}/warn`);
    await get(`${base}/boom`);
    await vi.waitFor(() => expect(lines.filter((l) => l.msg === 'request completed')).toHaveLength(2));
    const careful = lines.find((l) => String(l.msg).includes('careful'));
    expect(careful).toMatchObject({ level: 50, phase: 'content', location: '= /warn', client: '127.0.0.1', request: 'GET /warn HTTP/1.1' });
    expect(careful?.requestId).toEqual(expect.any(Number));
    const boom = lines.find((l) => String(l.msg).includes('boom') && l.level === 50);
    expect(boom).toMatchObject({ location: '= /boom', err: expect.objectContaining({ code: 'PHASEKIT_ERR_HANDLER' }) });
    // Fastify's own request log saw the engine's status.
    expect(lines.filter((l) => l.msg === 'request completed').map((l) => (l.res as { statusCode: number }).statusCode)).toEqual([200, 500]);
  });

  it('fastifyLogger maps nginx levels onto pino methods', () => {
    const calls: [string, Record<string, unknown>, string][] = [];
    const log = Object.fromEntries(['fatal', 'error', 'warn', 'info', 'debug'].map((m) => [m, (o: Record<string, unknown>, msg: string) => calls.push([m, o, msg])]));
    const logger = fastifyLogger(log as unknown as Parameters<typeof fastifyLogger>[0]);
    for (const level of ['stderr', 'emerg', 'alert', 'crit', 'error', 'warn', 'notice', 'info', 'debug'] as const) logger({ level, message: level, time: 0 });
    expect(calls.map(([m, o, msg]) => [msg, m, o.ngxLevel])).toEqual([
      ['stderr', 'info', 'stderr'],
      ['emerg', 'fatal', 'emerg'],
      ['alert', 'fatal', 'alert'],
      ['crit', 'fatal', 'crit'],
      ['error', 'error', undefined],
      ['warn', 'warn', undefined],
      ['notice', 'info', 'notice'],
      ['info', 'info', undefined],
      ['debug', 'debug', undefined],
    ]);
  });
});
