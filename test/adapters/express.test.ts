// @phasekit/express over real sockets: engine locations beside Express routes, phases, errors, body parsers, mounting.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import express, { type ErrorRequestHandler, type Express } from 'express';
import { createEngine, type Engine, type EngineConfig, type LogEntry } from 'phasekit';
import { phasekit } from '@phasekit/express';
import { fetchText as get } from '../helpers.js';

const servers: Server[] = [];
const engines: Engine[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
  await Promise.all(engines.splice(0).map((e) => e.close()));
});

async function engineOf(config: EngineConfig, logs: LogEntry[] = []): Promise<Engine> {
  const engine = await createEngine(config, { logger: (e) => logs.push(e) });
  engines.push(engine);
  return engine;
}

async function listen(app: Express): Promise<string> {
  const server = app.listen(0, '127.0.0.1');
  servers.push(server);
  await new Promise<void>((r) => server.once('listening', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const statuses: string[] = [];
const config: EngineConfig = {
  locations: [
    {
      match: '= /hello',
      access: { lua: 'if ngx.var.arg_deny == "1" then return ngx.exit(403) end' },
      content: { lua: 'ngx.say("hello from lua")' },
      log: (ngx) => {
        statuses.push(`${ngx.var.uri as string} ${ngx.var.status as string}`);
      },
    },
    {
      match: '/ts/',
      access: (ngx) => {
        if (ngx.var.http_x_deny) return ngx.exit(ngx.HTTP_FORBIDDEN);
      },
      content: (ngx) => ngx.say('ts ', ngx.var.uri as string, ' ', ngx.var.request_uri as string),
    },
    {
      match: '= /filtered',
      content: { lua: 'ngx.say("quiet")' },
      headerFilter: { lua: 'ngx.header["X-Filtered"] = "yes"; ngx.status = 202' },
      bodyFilter: { lua: 'ngx.arg[1] = string.upper(ngx.arg[1])' },
      log: (ngx) => {
        statuses.push(`${ngx.var.uri as string} ${ngx.var.status as string}`);
      },
    },
    { match: '= /echo-lua', content: { lua: 'ngx.req.read_body() ngx.print("lua:", ngx.req.get_body_data() or "(none)")' } },
    {
      match: '= /echo-ts',
      content: async (ngx) => {
        await ngx.req.readBody();
        ngx.print('ts:', ngx.req.getBodyData() ?? '(none)');
      },
    },
    {
      match: '= /throw-ts',
      content: () => {
        throw new Error('ts boom');
      },
      log: (ngx) => {
        statuses.push(`${ngx.var.uri as string} ${ngx.var.status as string}`);
      },
    },
    { match: '= /throw-lua', access: { lua: 'ngx.sleep(0.001) error("lua boom")' } },
    { match: '= /exit-500', content: { lua: 'ngx.exit(500)' } },
    { match: '= /throw-after-output', content: { lua: 'ngx.say("partial") ngx.flush(true) error("late boom")' } },
    { match: '= /throw-after-unflushed-output', content: { lua: 'ngx.say("partial") error("late boom")' } },
    { match: '= /', content: (ngx) => ngx.say('root ', ngx.var.request_uri as string) },
  ],
};

/** An error middleware that shows what reached it. */
const catchAll: ErrorRequestHandler = (err: { code?: string; message: string; cause?: { message?: string }; phase?: string }, _req, res, _next) => {
  res.status(418).json({ code: err.code, message: err.message, cause: err.cause?.message, phase: err.phase });
};

function appWith(engine: Engine, options?: Parameters<typeof phasekit>[1]): Express {
  const app = express();
  app.use(phasekit(engine, options));
  app.get('/app', (_req, res) => {
    res.send('app');
  });
  app.use(catchAll);
  return app;
}

describe('@phasekit/express', () => {
  it('serves engine locations and calls next() for the rest', async () => {
    const engine = await engineOf(config);
    const base = await listen(appWith(engine));
    expect(await get(`${base}/hello`)).toMatchObject({ status: 200, body: 'hello from lua\n' });
    expect(await get(`${base}/ts/x?a=1`)).toMatchObject({ status: 200, body: 'ts /ts/x /ts/x?a=1\n' });
    expect(await get(`${base}/app`)).toMatchObject({ status: 200, body: 'app' });
    const missing = await get(`${base}/nothing/here`);
    expect(missing.status).toBe(404);
    expect(missing.body).toContain('Cannot GET /nothing/here');
  });

  it('access phase answers 403 from Lua and from TypeScript', async () => {
    const engine = await engineOf(config);
    const base = await listen(appWith(engine));
    const lua = await get(`${base}/hello?deny=1`);
    expect(lua.status).toBe(403);
    expect(lua.body).toContain('403 Forbidden');
    expect((await get(`${base}/ts/a`, { headers: { 'x-deny': '1' } })).status).toBe(403);
  });

  it('header_filter and body_filter apply to engine-served responses; log sees the final status', async () => {
    const engine = await engineOf(config);
    const base = await listen(appWith(engine));
    statuses.length = 0;
    const res = await get(`${base}/filtered`);
    expect(res).toMatchObject({ status: 202, body: 'QUIET\n' });
    expect(res.headers['x-filtered']).toBe('yes');
    await get(`${base}/hello?deny=1`);
    await vi.waitFor(() => expect(statuses).toEqual(['/filtered 202', '/hello 403']));
  });

  describe('errors', () => {
    it('a handler error goes to the error middleware as a HandlerError instead of the engine 500 page', async () => {
      const logs: LogEntry[] = [];
      const engine = await engineOf(config, logs);
      const base = await listen(appWith(engine));
      statuses.length = 0;
      const ts = await get(`${base}/throw-ts`);
      expect(ts.status).toBe(418);
      expect(JSON.parse(ts.body)).toEqual({
        code: 'PHASEKIT_ERR_HANDLER',
        message: 'content handler of location "= /throw-ts": ts boom',
        cause: 'ts boom',
        phase: 'content',
      });
      // The engine logged it, and its log phase ran with the status it would have sent.
      expect(logs.some((l) => l.level === 'error' && l.message.includes('ts boom'))).toBe(true);
      await vi.waitFor(() => expect(statuses).toEqual(['/throw-ts 500']));

      const lua = await get(`${base}/throw-lua`);
      expect(lua.status).toBe(418);
      expect(JSON.parse(lua.body)).toMatchObject({ code: 'PHASEKIT_ERR_HANDLER', phase: 'access' });
      expect((JSON.parse(lua.body) as { cause: string }).cause).toContain('lua boom');
    });

    it('each error reaches next() of its own request when requests overlap', async () => {
      const engine = await engineOf(config);
      const base = await listen(appWith(engine));
      const paths = ['/throw-lua', '/hello', '/throw-lua', '/ts/a', '/throw-ts', '/hello'];
      const results = await Promise.all(paths.map((p) => get(`${base}${p}`)));
      expect(results.map((r) => r.status)).toEqual([418, 200, 418, 200, 418, 200]);
    });

    it('ngx.exit(500) is an answer, not an error: the engine sends it', async () => {
      const engine = await engineOf(config);
      const base = await listen(appWith(engine));
      const res = await get(`${base}/exit-500`);
      expect(res.status).toBe(500);
      expect(res.body).toContain('500 Internal Server Error');
    });

    it('an error after output that was never flushed reaches Express (nothing was sent yet)', async () => {
      const engine = await engineOf(config);
      const app = express();
      app.use(phasekit(engine));
      app.use(((_err, _req, res, _next) => {
        res.status(418).end();
      }) as ErrorRequestHandler);
      const base = await listen(app);
      expect((await get(`${base}/throw-after-unflushed-output`)).status).toBe(418);
    });

    it('an error after flushed output closes the connection, as nginx does: nothing reaches Express', async () => {
      const engine = await engineOf(config);
      let reached = false;
      const app = express();
      app.use(phasekit(engine));
      app.use(((_err, _req, res, _next) => {
        reached = true;
        res.status(418).end();
      }) as ErrorRequestHandler);
      const base = await listen(app);
      await expect(get(`${base}/throw-after-output`)).rejects.toThrow();
      expect(reached).toBe(false);
    });

    it("handlerErrors: 'engine' keeps nginx's 500 page", async () => {
      const engine = await engineOf(config);
      const base = await listen(appWith(engine, { handlerErrors: 'engine' }));
      const res = await get(`${base}/throw-ts`);
      expect(res.status).toBe(500);
      expect(res.body).toContain('500 Internal Server Error');
    });

    it('without an error middleware, Express answers the error itself', async () => {
      const engine = await engineOf(config);
      const app = express();
      app.use(phasekit(engine));
      app.set('env', 'test'); // finalhandler: the stack in the page, nothing on stderr
      const base = await listen(app);
      const res = await get(`${base}/throw-ts`);
      expect(res.status).toBe(500);
      expect(res.body).toContain('HandlerError: content handler of location &quot;= /throw-ts&quot;: ts boom');
    });

    it('a closed engine is next(err)', async () => {
      const engine = await engineOf(config);
      const base = await listen(appWith(engine));
      await engine.close();
      const res = await get(`${base}/hello`);
      expect(res.status).toBe(418);
      expect(JSON.parse(res.body)).toMatchObject({ code: 'PHASEKIT_ERR_ENGINE_CLOSED' });
    });
  });

  describe('request bodies', () => {
    it('without a body parser, the engine reads the stream', async () => {
      const engine = await engineOf(config);
      const base = await listen(appWith(engine));
      const init = { method: 'POST' as const, headers: { 'content-type': 'application/json' }, body: '{"a": 1}' };
      expect(await get(`${base}/echo-lua`, init)).toMatchObject({ status: 200, body: 'lua:{"a": 1}' });
      expect(await get(`${base}/echo-ts`, init)).toMatchObject({ status: 200, body: 'ts:{"a": 1}' });
    });

    it('after express.json() or express.urlencoded() the stream is consumed: JSON reads back as JSON text, a form as no body, never a hang', async () => {
      const engine = await engineOf(config);
      const app = express();
      app.use(express.json());
      app.use(express.urlencoded({ extended: false }));
      app.use(phasekit(engine));
      const base = await listen(app);
      const init = { method: 'POST' as const, headers: { 'content-type': 'application/json' }, body: '{"a": 1}' };
      expect(await get(`${base}/echo-lua`, init)).toMatchObject({ status: 200, body: 'lua:{"a":1}' });
      expect(await get(`${base}/echo-ts`, init)).toMatchObject({ status: 200, body: 'ts:{"a":1}' });
      const form = { method: 'POST' as const, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=1' };
      expect(await get(`${base}/echo-lua`, form)).toMatchObject({ status: 200, body: 'lua:(none)' });
      // A body the parser did not take is still read from the stream.
      expect(await get(`${base}/echo-lua`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'plain' })).toMatchObject({ body: 'lua:plain' });
    });

    it('after express.json() with a verify hook keeping req.rawBody, the engine gets the exact bytes', async () => {
      const engine = await engineOf(config);
      const app = express();
      app.use(express.json({ verify: (req, _res, buf) => { (req as { rawBody?: Buffer }).rawBody = buf; } }));
      app.use(phasekit(engine));
      const base = await listen(app);
      const init = { method: 'POST' as const, headers: { 'content-type': 'application/json' }, body: '{"a":   1}' };
      expect(await get(`${base}/echo-lua`, init)).toMatchObject({ status: 200, body: 'lua:{"a":   1}' });
    });

    it('a kept body over clientMaxBodySize is 413, as a read one would be', async () => {
      const engine = await engineOf({ ...config, clientMaxBodySize: 4 });
      const app = express();
      app.use(express.text());
      app.use(phasekit(engine));
      const base = await listen(app);
      expect((await get(`${base}/echo-ts`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'too long' })).status).toBe(413);
      expect(await get(`${base}/echo-ts`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'ok' })).toMatchObject({ body: 'ts:ok' });
    });

    it('after express.text() or express.raw(), the engine gets the body they kept', async () => {
      const engine = await engineOf(config);
      const app = express();
      app.use(express.text());
      app.use(express.raw({ type: 'application/octet-stream' }));
      app.use(phasekit(engine));
      const base = await listen(app);
      expect(await get(`${base}/echo-ts`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'some text' })).toMatchObject({ body: 'ts:some text' });
      expect(await get(`${base}/echo-lua`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: 'bytes' })).toMatchObject({ body: 'lua:bytes' });
    });
  });

  describe('mounted under a path', () => {
    it('locations match the path below the mount point; other paths are untouched', async () => {
      const engine = await engineOf(config);
      const app = express();
      app.use('/gw', phasekit(engine));
      app.use('/gw', (req, res) => {
        res.send(`gw app ${req.baseUrl} ${req.url}`);
      });
      app.get('/hello', (_req, res) => {
        res.send('app hello');
      });
      app.use(catchAll);
      const base = await listen(app);
      expect(await get(`${base}/gw/hello`)).toMatchObject({ status: 200, body: 'hello from lua\n' });
      expect((await get(`${base}/gw/hello?deny=1`)).status).toBe(403);
      expect(await get(`${base}/gw/ts/x?q=1`)).toMatchObject({ body: 'ts /ts/x /ts/x?q=1\n' });
      expect(await get(`${base}/gw`)).toMatchObject({ body: 'root /\n' });
      expect(await get(`${base}/hello`)).toMatchObject({ body: 'app hello' });
      // No location below the mount point: next(), with Express's req.url and req.baseUrl intact.
      expect(await get(`${base}/gw/other?x=1`)).toMatchObject({ body: 'gw app /gw /other?x=1' });
      const failed = await get(`${base}/gw/throw-ts`);
      expect(failed.status).toBe(418);
      expect(JSON.parse(failed.body)).toMatchObject({ code: 'PHASEKIT_ERR_HANDLER' });
    });
  });
});
