// createWorkers for embedders, and shared dicts under contention across worker threads. Both run
// in a child process under Node >= 22.12 (node22.ts).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createWorkers, reusePortSupported } from 'phasekit';
import { exited, root, spawnNode22, watchOutput } from './node22.js';

async function runFixture(name: string): Promise<Record<string, unknown>> {
  const child = spawnNode22([join(root, 'test/workers/fixtures', name)]);
  const out = watchOutput(child);
  const code = await exited(child);
  const line = out.text().split('\n').find((l) => l.startsWith('{'));
  if (code !== 0 || line === undefined) throw new Error(`${name} exited ${code}:\n${out.text()}`);
  return JSON.parse(line) as Record<string, unknown>;
}

describe('createWorkers', { timeout: 90_000 }, () => {
  it('knows where reusePort exists: Node >= 22.12 (23.1) on Linux', () => {
    expect(reusePortSupported('22.12.0', 'linux')).toBe(true);
    expect(reusePortSupported('22.11.0', 'linux')).toBe(false);
    expect(reusePortSupported('23.0.0', 'linux')).toBe(false);
    expect(reusePortSupported('24.1.0', 'linux')).toBe(true);
    expect(reusePortSupported('20.19.0', 'linux')).toBe(false);
    expect(reusePortSupported('22.12.0', 'darwin')).toBe(false);
  });

  it.runIf(!reusePortSupported())('says what it needs on an older Node.js', async () => {
    await expect(createWorkers({ locations: [] }, { workers: 2 })).rejects.toMatchObject({
      code: 'PHASEKIT_ERR_WORKERS_UNSUPPORTED',
      message: expect.stringMatching(/Node\.js >= 22\.12 on Linux/),
    });
  });

  it('serves a config object from N workers; reload(config) reaches all; bad input and failed starts are errors with codes', async () => {
    const r = await runFixture('embed.mjs');
    expect(r.count).toBe(2);
    expect(r.pids).toBe(true);
    expect(r.before).toMatch(/^one [01] 2 2\n$/);
    expect(r.after).toMatch(/^two [01] 2 4\n$/); // initWorker ran again in both workers
    expect(r.badReload).toBe('PHASEKIT_ERR_CONFIG');
    expect(r.stillServing).toMatch(/^two /);
    expect(r.functions).toBe('PHASEKIT_ERR_BAD_ARGUMENT');
    expect(r.badCount).toBe('PHASEKIT_ERR_BAD_ARGUMENT');
    expect(r.failedStart).toBe('PHASEKIT_ERR_WORKER_START true');
    expect(r.closed).toBe('refused');
  });
});

describe('shared dicts across worker threads', { timeout: 90_000 }, () => {
  it('no lost update, no torn value, exact accounting, LRU and TTL under contention', async () => {
    const r = await runFixture('dict-threads.mjs');
    expect(r.total).toBe(r.expectedTotal); // 4 threads x 40000 incr on one key
    expect(r.bad).toBe(0); // every value read while others wrote was whole and under its own key
    expect(r.keysValid).toBe(true);
    expect(r.accounted).toBe(true);
    expect(r.evicted).toBe(true);
    expect(r.listsBalance).toBe(true);
    expect(r.lru).toMatchObject({ a1: true, a2: false }); // touched by another thread: kept; the next oldest: evicted
    expect(r.ttl).toEqual({ before: true, afterGet: true, staleValue: 'soon', stale: true });
  });
});
