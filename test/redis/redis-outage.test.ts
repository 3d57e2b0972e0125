// A Redis dict when Redis goes away and comes back, and two phasekit processes sharing one.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Pool } from 'undici';
import { createEngine, type LogEntry } from 'phasekit';
import { inject } from '@phasekit/testing';
import { startRedis, type RedisServer } from './redis-server.js';

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

const INCR = 'local n, err = ngx.shared.c:incr("n", 1, 0)\nif not n then ngx.status = 503 ngx.say(err) return end\nngx.say(n)';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Redis killed and restarted during traffic', () => {
  it('requests get nil, "redis: ..." at once or after the timeout (never hang), then work again', async () => {
    const logs: LogEntry[] = [];
    const engine = await createEngine(
      { errorLogLevel: 'warn', sharedDicts: { c: { size: '1m', store: redis.url, timeout: 0.5, prefix: `test:outage:${Date.now()}:` } }, locations: [{ match: '/', content: { lua: INCR } }] },
      { logger: (e) => logs.push(e) },
    );
    expect((await inject(engine, '/')).status).toBe(200); // connected (the client loads on first use)
    const results: { status: number; body: string; ms: number; at: number }[] = [];
    let running = true;
    const traffic = Array.from({ length: 4 }, async () => {
      while (running) {
        const t0 = Date.now();
        const res = await inject(engine, '/');
        results.push({ status: res.status, body: res.body, ms: Date.now() - t0, at: t0 });
        await sleep(5);
      }
    });
    await sleep(200);
    const killedAt = Date.now();
    await redis.kill();
    await sleep(800);
    await redis.restart();
    const restartedAt = Date.now();
    // ioredis retries every 100 ms .. 1 s: wait for a success, at most 5 s.
    for (let i = 0; i < 100 && !results.some((r) => r.at > restartedAt && r.status === 200); i++) await sleep(50);
    await sleep(200);
    running = false;
    await Promise.all(traffic);

    const before = results.filter((r) => r.at < killedAt - 100);
    const down = results.filter((r) => r.at > killedAt + 50 && r.at < restartedAt);
    const after = results.filter((r) => r.at > restartedAt);
    expect(before.length).toBeGreaterThan(0);
    expect(before.every((r) => r.status === 200)).toBe(true);
    expect(down.length).toBeGreaterThan(0);
    expect(down.every((r) => r.status === 503 && /^redis: /.test(r.body))).toBe(true);
    // No call waited longer than the timeout (0.5 s) and a margin.
    expect(Math.max(...results.map((r) => r.ms))).toBeLessThan(1500);
    // Back: the last requests all succeed (the restarted server is empty, so the count starts again).
    expect(after.slice(-5).every((r) => r.status === 200)).toBe(true);
    expect(logs.some((l) => /calls fail until it is back/.test(l.message))).toBe(true);
    expect(logs.some((l) => /connected again/.test(l.message))).toBe(true);
    await engine.close();
  });

  it('a dict whose Redis is not there answers nil, "redis: ..." at once', async () => {
    const engine = await createEngine(
      { sharedDicts: { c: { size: '1m', store: 'redis://127.0.0.1:1/0', timeout: 0.3 } }, locations: [{ match: '/', content: { lua: INCR } }] },
      { logger: () => {} },
    );
    const t0 = Date.now();
    const res = await inject(engine, '/');
    expect(res.status).toBe(503);
    expect(res.body).toMatch(/^redis: .*(ECONNREFUSED|connect)/);
    expect(Date.now() - t0).toBeLessThan(1500);
    await engine.close();
  });
});

describe('two phasekit processes sharing a Redis dict', () => {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const children: ChildProcess[] = [];
  afterEach(() => {
    for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
  });

  function serve(file: string): Promise<string> {
    const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', join(root, 'packages/phasekit/bin/phasekit.mjs'), 'serve', file, '--listen', '127.0.0.1:0'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let out = '';
    return new Promise((resolve, reject) => {
      const onData = (d: Buffer) => {
        out += d.toString();
        const m = /listening on (http:\/\/\S+)/.exec(out);
        if (m) resolve(m[1] as string);
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.on('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
    });
  }

  it('increments from both end at the exact total, and a value set through one is read through the other', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'phasekit-redis-'));
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({
      sharedDicts: { c: { size: '1m', store: redis.url, prefix: `test:two:${Date.now()}:` } },
      locations: [
        { match: '= /incr', content: { lua: INCR } },
        { match: '= /set', content: { lua: 'ngx.say(ngx.shared.c:set("who", ngx.var.arg_v))' } },
        { match: '= /get', content: { lua: 'ngx.say(ngx.shared.c:get("who"), " ", ngx.shared.c:get("n"))' } },
      ],
    }));
    const [a, b] = await Promise.all([serve(file), serve(file)]);
    const pools = [new Pool(a, { connections: 8 }), new Pool(b, { connections: 8 })];
    const n = 400;
    const statuses = await Promise.all(
      Array.from({ length: n }, async (_, i) => {
        const res = await (pools[i % 2] as Pool).request({ path: '/incr', method: 'GET' });
        await res.body.text();
        return res.statusCode;
      }),
    );
    expect(statuses.every((s) => s === 200)).toBe(true);
    await (pools[0] as Pool).request({ path: '/set?v=from-a', method: 'GET' }).then((r) => r.body.text());
    const res = await (pools[1] as Pool).request({ path: '/get', method: 'GET' });
    expect(await res.body.text()).toBe(`from-a ${n}\n`);
    await Promise.all(pools.map((p) => p.close()));
  });
});
