// Fastify's per-route mode: phase handlers in route options around the route's own handler.
import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import Fastify, { type FastifyInstance } from 'fastify';
import { createEngine, type Engine, type LogEntry } from 'phasekit';
import { phasekit } from '@phasekit/fastify';

const apps: FastifyInstance[] = [];
const engines: Engine[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
  await Promise.all(engines.splice(0).map((e) => e.close()));
});

async function app() {
  const logs: LogEntry[] = [];
  const engine = await createEngine({ lua: {}, locations: [] }, { logger: (e) => logs.push(e) });
  engines.push(engine);
  const fastify = Fastify();
  apps.push(fastify);
  await fastify.register(phasekit, { engine });
  return { fastify, logs };
}

describe('per-route phases', () => {
  it('access (Lua) answers 403 before the route; otherwise the route runs and the filters apply', async () => {
    const { fastify } = await app();
    let statusInLog = 0;
    fastify.get('/app', {
      config: {
        phases: {
          access: { lua: 'if ngx.var.arg_deny then return ngx.exit(403) end ngx.ctx.user = "bob"' },
          headerFilter: (ngx) => { ngx.header['X-Filtered'] = ngx.var.uri as string; },
          bodyFilter: { lua: 'ngx.arg[1] = string.upper(ngx.arg[1])' },
          log: (ngx) => { statusInLog = ngx.status; },
        },
      },
    }, async () => 'app body');
    await fastify.ready();
    const ok = await fastify.inject('/app');
    expect(ok.statusCode).toBe(200);
    expect(ok.body).toBe('APP BODY');
    expect(ok.headers['x-filtered']).toBe('/app');
    await new Promise((r) => setImmediate(r));
    expect(statusInLog).toBe(200);
    const denied = await fastify.inject('/app?deny=1');
    expect(denied.statusCode).toBe(403);
    expect(denied.body).toContain('403 FORBIDDEN');
    expect(denied.headers['x-filtered']).toBe('/app');
  });

  it('rewrite and access share ngx.ctx; a TS access answering with output ends the request', async () => {
    const { fastify } = await app();
    fastify.get('/who', {
      config: {
        phases: {
          rewrite: (ngx) => { ngx.ctx.step = 'rewrite'; },
          access: (ngx) => { if (ngx.var.arg_short) { ngx.say('short-circuit after ', String(ngx.ctx.step)); } },
        },
      },
    }, async () => 'route');
    await fastify.ready();
    expect((await fastify.inject('/who')).body).toBe('route');
    const short = await fastify.inject('/who?short=1');
    expect(short.body).toBe('short-circuit after rewrite\n');
  });

  it('routes without phases, and routes in other contexts, are untouched', async () => {
    const { fastify } = await app();
    fastify.get('/plain', async () => 'plain');
    await fastify.ready();
    const res = await fastify.inject('/plain');
    expect(res.body).toBe('plain');
  });

  it('a bad phase config fails route registration with the path', async () => {
    const { fastify } = await app();
    expect(() => fastify.get('/bad', { config: { phases: { access: 42 as never } } }, async () => 'x')).toThrow(/route GET \/bad\.access/);
  });
});

describe('per-route phases with Fastify features', () => {
  it('a body Fastify already parsed is readable through read_body/get_body_data; log lines go to request.log', async () => {
    const lines: { msg: string; level: number }[] = [];
    const engine = await createEngine({ lua: {}, locations: [] }, { logger: () => undefined });
    engines.push(engine);
    const stream = { write: (line: string) => void lines.push(JSON.parse(line) as { msg: string; level: number }) };
    const fastify = Fastify({ logger: { level: 'info', stream } });
    apps.push(fastify);
    await fastify.register(phasekit, { engine });
    fastify.post('/items', {
      config: { phases: { access: { lua: 'ngx.req.read_body() ngx.log(ngx.ERR, "body: ", ngx.req.get_body_data()) if ngx.req.get_body_data():find("deny") then return ngx.exit(403) end' } } },
    }, async (request) => ({ got: request.body }));
    await fastify.ready();
    const ok = await fastify.inject({ method: 'POST', url: '/items', payload: { name: 'x' } });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ got: { name: 'x' } });
    expect((await fastify.inject({ method: 'POST', url: '/items', payload: { name: 'deny' } })).statusCode).toBe(403);
    const logged = lines.filter((l) => l.msg.includes('body: '));
    expect(logged.map((l) => l.msg)).toEqual([
      '[lua] access(location "route POST /items"):1: body: {"name":"x"}',
      '[lua] access(location "route POST /items"):1: body: {"name":"deny"}',
    ]);
    expect(logged[0]?.level).toBe(50);
  });

  it('regression: a route whose access reads a 64 KiB body (temp file) deletes it and fires request:start/end', async () => {
    const engine = await createEngine({ lua: {}, locations: [] }, { logger: () => undefined });
    engines.push(engine);
    const fastify = Fastify();
    apps.push(fastify);
    await fastify.register(phasekit, { engine });
    let file: string | undefined;
    fastify.post('/upload', {
      config: { phases: { access: async (ngx) => { await ngx.req.readBody(); file = ngx.req.getBodyFile(); } } },
    }, async () => 'stored');
    const events: string[] = [];
    engine.on('request:start', (i) => events.push(`start ${i.uri}`));
    engine.on('request:end', (i) => events.push(`end ${i.uri} ${i.status}`));
    await fastify.ready();
    const res = await fastify.inject({ method: 'POST', url: '/upload', headers: { 'content-type': 'text/plain' }, payload: 'a'.repeat(64 * 1024) });
    expect(res.statusCode).toBe(200);
    expect(file).toMatch(/phasekit-body-/);
    await vi.waitFor(() => expect(existsSync(file as string)).toBe(false));
    await vi.waitFor(() => expect(events).toEqual(['start /upload', 'end /upload 200']));
  });
});
