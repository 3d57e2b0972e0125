// rate-limiting with policy "redis": counters in a shared dict on a real redis-server, shared by
// two engines (two hosts); what a config that mixes up the policy and the dict gets; a Redis that
// does not answer follows fault_tolerant.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClock, inject, type EngineConfig, type Ngx } from 'phasekit';
import { freePort, startRedis, type RedisServer } from '../redis/redis-server.js';
import { pluginEngine, startError } from './helpers.js';

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

const ok = (ngx: Ngx) => ngx.say('ok');

function gateway(store: string, prefix: string, conf: Record<string, unknown>): EngineConfig {
  return {
    sharedDicts: { counters: { size: '1m', store, prefix, timeout: 0.5 } },
    locations: [{ match: '/', plugins: [{ name: 'rate-limiting', config: { policy: 'redis', dict: 'counters', limit_by: 'ip', ...conf } }], content: ok }],
  };
}

describe('plugins on Redis dicts', () => {
  it('two engines count in one Redis dict: the limit is theirs together, a refused request is not counted', async () => {
    // 10 s before a minute ends, near real time (Redis expires the counters by the engine's clock).
    const start = (Math.floor(Date.now() / 60_000) + 1) * 60_000 + 50_000;
    const clock = createClock(start);
    const prefix = `test:plugins-rl:${Date.now()}:`;
    const a = await pluginEngine(gateway(redis.url, prefix, { minute: 3 }), { clock });
    const b = await pluginEngine(gateway(redis.url, prefix, { minute: 3 }), { clock });
    try {
      const statuses: number[] = [];
      const remaining: (string | undefined)[] = [];
      for (const engine of [a.engine, b.engine, a.engine, b.engine, a.engine]) {
        const r = await inject(engine, '/');
        statuses.push(r.status);
        remaining.push(r.headers['x-ratelimit-remaining-minute'] as string | undefined);
      }
      expect(statuses).toEqual([200, 200, 200, 429, 429]);
      expect(remaining).toEqual(['2', '1', '0', '0', '0']);
      const limited = await inject(b.engine, '/');
      expect(limited.headers).toMatchObject({ 'retry-after': '10', 'ratelimit-limit': '3', 'ratelimit-reset': '10' });
      // The refused requests took their counts back: the counter is 3, on Redis.
      const { engine: reader } = await pluginEngine(
        { sharedDicts: { counters: { size: '1m', store: redis.url, prefix } }, locations: [{ match: '/', content: async (ngx) => ngx.say(String((await ngx.shared.counters!.getKeys(0)).length), ' ', String((await ngx.shared.counters!.get((await ngx.shared.counters!.getKeys(0))[0] as string)) ?? 'none')) }] },
        { clock },
      );
      expect((await inject(reader, '/')).body).toBe('1 3\n');
      await reader.close();
      // The next minute starts over, for both.
      await clock.tick(10_000);
      expect((await inject(b.engine, '/')).status).toBe(200);
      expect((await inject(a.engine, '/')).headers['x-ratelimit-remaining-minute']).toBe('1');
    } finally {
      await a.engine.close();
      await b.engine.close();
    }
  });

  it('policy and dict must agree: "redis" needs a dict on Redis, a dict on Redis needs "redis"', async () => {
    const local = await startError({
      sharedDicts: { counters: '1m' },
      locations: [{ match: '/', plugins: [{ name: 'rate-limiting', config: { minute: 1, policy: 'redis', dict: 'counters' } }], content: ok }],
    });
    expect(local.code).toBe('PHASEKIT_ERR_CONFIG');
    expect(local.message).toContain('locations[0].plugins[0].config.policy: policy "redis" counts in a shared dict on Redis, and shared dict "counters" is in shared memory (declare it with store: "redis://...")');
    const remote = await startError({
      sharedDicts: { counters: { size: '1m', store: redis.url } },
      locations: [{ match: '/', plugins: [{ name: 'rate-limiting', config: { minute: 1, dict: 'counters' } }], content: ok }],
    });
    expect(remote.message).toContain('locations[0].plugins[0].config.policy: shared dict "counters" is on Redis: set policy "redis" to count there');
    const bad = await startError({
      sharedDicts: { counters: '1m' },
      locations: [{ match: '/', plugins: [{ name: 'rate-limiting', config: { minute: 1, policy: 'cluster' } }], content: ok }],
    });
    expect(bad.message).toContain('locations[0].plugins[0].config.policy');
  });

  it('a Redis that does not answer: the request goes through when fault_tolerant, else 500; the error is logged', async () => {
    const dead = `redis://127.0.0.1:${await freePort()}/0`;
    const tolerant = await pluginEngine(gateway(dead, 'test:dead:', { minute: 1 }));
    const strict = await pluginEngine(gateway(dead, 'test:dead:', { minute: 1, fault_tolerant: false }));
    try {
      const through = await inject(tolerant.engine, '/');
      expect([through.status, through.headers['x-ratelimit-limit-minute']]).toEqual([200, undefined]);
      const refused = await inject(strict.engine, '/');
      expect([refused.status, JSON.parse(refused.body)]).toEqual([500, { message: 'An unexpected error occurred' }]);
      expect(tolerant.messages().join('\n')).toMatch(/rate-limiting: failed to get usage from dict "counters": redis: /);
    } finally {
      await tolerant.engine.close();
      await strict.engine.close();
    }
  });

  it('dynamic routes and prometheus read their dict at once: a dict on Redis there is a config error', async () => {
    const err = await startError({
      sharedDicts: { routes: { size: '1m', store: redis.url }, metrics: { size: '1m', store: redis.url } },
      dynamicRoutes: { dict: 'routes', load: async () => ({ routes: [] }) },
      locations: [
        { match: '/', plugins: [{ name: 'prometheus', config: { dict: 'metrics' } }], content: ok },
        { match: '/metrics', prometheusMetrics: { dict: 'metrics' } },
      ],
    } as EngineConfig);
    const onRedis = (name: string) => `shared dict "${name}" is on Redis: this needs a dict in shared memory (its calls cannot wait here)`;
    expect(err.issues).toEqual(
      expect.arrayContaining([
        { path: 'dynamicRoutes.dict', message: onRedis('routes') },
        { path: 'locations[0].plugins[0].config.dict', message: onRedis('metrics') },
        { path: 'locations[1].prometheusMetrics', message: onRedis('metrics') },
      ]),
    );
  });
});
