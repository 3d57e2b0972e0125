// Shared dicts on Redis: the same results as the shared-memory dict for every method (random
// sequences on both), through Lua (calls yield) and TypeScript, refused where a handler cannot wait.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, RedisConnection, RedisSharedDict, SharedDict, type Clock, type LogEntry, type Ngx } from 'phasekit';
import { inject } from '@phasekit/testing';
import { startRedis, type RedisServer } from './redis-server.js';

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

/** A clock that moves when told to, starting now (Redis drops keys by its own clock, grace after they expire). */
function clock(): Clock & { t: number } {
  return { t: Date.now(), now() { return this.t; }, schedule: () => () => {} };
}

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const KEYS = ['a', 'b', 'ключ', 'list', 'n', 'x y', 'k:1'];

describe('RedisSharedDict', () => {
  it('gives the shared-memory dict\'s results for 1500 random calls of every method', async () => {
    const c1 = clock();
    const c2 = clock();
    const conn = new RedisConnection(redis.url, { timeout: 2000, log: () => {} });
    const r = new RedisSharedDict('diff', conn, { capacity: 1 << 20, clock: c2, prefix: 'test:diff:' });
    const m = new SharedDict('diff', '1m', { clock: c1 });
    const rand = rng(7);
    for (let i = 0; i < 1500; i++) {
      if (rand() < 0.05) {
        const ms = Math.floor(rand() * 3000);
        c1.t += ms;
        c2.t += ms;
      }
      const k = KEYS[Math.floor(rand() * KEYS.length)] as string;
      const pick = rand();
      const v = pick < 0.3 ? Math.floor(rand() * 100) : pick < 0.4 ? rand() * 5 : pick < 0.5 ? rand() < 0.5 : pick < 0.55 ? new Uint8Array([0, 255, Math.floor(rand() * 256)]) : pick < 0.6 ? undefined : `v${'é'.repeat(Math.floor(rand() * 5))}`;
      const ttl = rand() < 0.3 ? Math.floor(rand() * 6) / 2 : 0;
      const flags = rand() < 0.2 ? Math.floor(rand() * 1000) : 0;
      const item = typeof v === 'boolean' || v === undefined ? 'item' : v;
      const coin = rand();
      const ops: [string, (d: SharedDict | RedisSharedDict) => unknown][] = [
        ['set', (d) => d.set(k, v, ttl, flags)],
        ['safeSet', (d) => d.safeSet(k, v, ttl, flags)],
        ['add', (d) => (v === undefined ? null : d.add(k, v, ttl, flags))],
        ['replace', (d) => (v === undefined ? null : d.replace(k, v, ttl, flags))],
        ['getWithFlags', (d) => d.getWithFlags(k)],
        ['getStale', (d) => d.getStale(k)],
        ['delete', (d) => d.delete(k)],
        ['incr', (d) => d.incr(k, 3)],
        ['incr init', (d) => d.incr(k, 1.5, 10, ttl)],
        ['lpush', (d) => d.lpush(k, item)],
        ['rpush', (d) => d.rpush(k, item)],
        ['lpop', (d) => d.lpop(k)],
        ['rpop', (d) => d.rpop(k)],
        ['llen', (d) => d.llen(k)],
        ['ttl', (d) => d.ttl(k)],
        ['expire', (d) => d.expire(k, ttl)],
        // Not flushExpired(max): which expired entries go first differs (LRU order in shm, SCAN order on Redis).
        ['flushExpired', (d) => d.flushExpired(0)],
        // shm frees the 3 least recently used entries at once, Redis keeps all of them for get_stale: freeing
        // the flushed entries right after makes the two comparable again.
        ['flushAll', async (d) => (coin < 0.03 ? [await d.flushAll(), await d.flushExpired(0) > 0] : null)],
        ['getKeys', async (d) => (await d.getKeys(0)).sort()],
      ];
      const [name, run] = ops[Math.floor(rand() * ops.length)] as (typeof ops)[number];
      const want = JSON.stringify(await run(m));
      const got = JSON.stringify(await run(r));
      if (got !== want) expect({ call: i, name, k, got }).toEqual({ call: i, name, k, got: want });
    }
    expect(await r.capacity()).toBe(1 << 20);
    expect(typeof (await r.freeSpace())).toBe('number');
    await r.flushAll();
    await conn.close();
  });

  it('misuse throws at once, as the shared-memory dict does', async () => {
    const conn = new RedisConnection(redis.url, { timeout: 2000, log: () => {} });
    const r = new RedisSharedDict('misuse', conn, { capacity: 1024, clock: clock() });
    expect(() => r.set('k', 1, -1)).toThrow(/bad "exptime" argument/);
    expect(() => r.incr('k', 1, undefined, 5)).toThrow(/must provide "init" when providing "init_ttl"/);
    expect(await r.set('', 1)).toEqual([undefined, 'empty key', undefined]);
    await conn.close();
  });
});

describe('a Redis dict in the engine', () => {
  const config = () => ({
    sharedDicts: { local: '1m', limits: { size: '10m', store: redis.url, prefix: `test:engine:${Date.now()}:` } },
    locations: [
      {
        match: '= /lua',
        content: {
          lua: `local d = ngx.shared.limits
local n, err, forcible = d:incr("hits", 1, 0, 60)
d:set("flag", true, 0, 3)
local v, flags = d:get("flag")
d:rpush("q", "a") d:rpush("q", 2)
local keys = d:get_keys(0)
table.sort(keys)
ngx.say(n, " ", tostring(err), " ", tostring(forcible), " ", tostring(v), " ", flags, " ", d:lpop("q"), " ", d:llen("q"), " ", table.concat(keys, ","), " ", d:capacity())`,
        },
      },
      { match: '= /header-filter', content: { lua: 'ngx.say("body")' }, headerFilter: { lua: 'ngx.header["X-N"] = ngx.shared.limits:get("hits")' } },
      { match: '= /local-in-filter', content: { lua: 'ngx.say("body")' }, headerFilter: { lua: 'ngx.header["X-N"] = ngx.shared["local"]:incr("n", 1, 0)' } },
      { match: '= /ts', content: async (ngx: Ngx) => { const [n] = await ngx.shared.limits!.incr('ts', 2, 40); ngx.say(String(n)); } },
      { match: '= /ts-filter', content: (ngx: Ngx) => ngx.say('x'), headerFilter: (ngx: Ngx) => { void ngx.shared.limits!.get('ts'); } },
    ],
  });

  it('serves Lua (the calls yield) and TypeScript (awaited) from the same dict', async () => {
    const engine = await createEngine(config(), { logger: () => {} });
    const first = await inject(engine, '/lua');
    expect(first.body).toBe('1 nil false true 3 a 1 flag,hits,q 10485760\n');
    expect((await inject(engine, '/lua')).body).toMatch(/^2 nil false true 3 2 2 /); // the list kept one item from the first request
    expect((await inject(engine, '/ts')).body).toBe('42\n');
    expect((await inject(engine, '/ts')).body).toBe('44\n');
    await engine.close();
  });

  it('refuses a Redis dict where a handler cannot wait, with a message saying what to do', async () => {
    const logs: LogEntry[] = [];
    const engine = await createEngine(config(), { logger: (e) => logs.push(e) });
    await inject(engine, '/header-filter');
    expect(logs.map((l) => l.message).join('\n')).toMatch(
      /ngx\.shared\.limits is on a server and its calls wait, which header_filter_by_lua\* cannot: make the call in rewrite, access, content or a timer, or use a local \(shared-memory\) dict/,
    );
    expect((await inject(engine, '/local-in-filter')).headers['x-n']).toBe('1');
    logs.length = 0;
    await inject(engine, '/ts-filter');
    const err = logs.find((l) => /ts-filter/.test(l.message))?.err as { code?: string; cause?: { code?: string } } | undefined;
    expect(err?.cause?.code ?? err?.code).toBe('PHASEKIT_ERR_SHARED_DICT_WAIT');
    expect(logs.map((l) => l.message).join('\n')).toMatch(/which header_filter_by_lua\* cannot: make the call in rewrite, access, content, log or a timer/);
    await engine.close();
  });
});
