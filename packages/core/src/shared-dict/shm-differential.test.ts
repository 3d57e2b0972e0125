// The shared-memory SharedDict against the in-process Map-based one it replaced: long random
// sequences of every method (small dicts, so eviction, compaction and reblocking happen all the
// time) must give identical results, call for call.

import { describe, expect, it } from 'vitest';
import type { Clock } from '../clock.js';
import { MapSharedDict } from './map-shared-dict.test-support.js';
import { SharedDict } from './shared-dict.js';

/** A small deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function clock(): Clock & { t: number } {
  return { t: 1_700_000_000_000, now() { return this.t; }, schedule: () => () => {} };
}

const KEYS = ['a', 'b', 'key:1', 'key:2', 'ключ', '键', 'long-' + 'x'.repeat(300), 'c', 'd', 'e', 'f', 'g'];

function randomValue(r: () => number): string | number | boolean | Uint8Array | undefined {
  const pick = r();
  if (pick < 0.3) return Math.floor(r() * 1000);
  if (pick < 0.35) return r() * 10;
  if (pick < 0.4) return r() < 0.5;
  if (pick < 0.45) return undefined;
  if (pick < 0.5) return new Uint8Array(Math.floor(r() * 40)).map(() => Math.floor(r() * 256));
  const len = r() < 0.9 ? Math.floor(r() * 60) : Math.floor(r() * 3000);
  return (r() < 0.8 ? 'v' : 'é').repeat(len);
}

/** One random call, made the same way on a dict of either kind. */
function randomOp(r: () => number): { name: string; run: (d: SharedDict | MapSharedDict) => unknown } {
  const k = KEYS[Math.floor(r() * KEYS.length)] as string;
  const v = randomValue(r);
  const ttl = r() < 0.3 ? Math.floor(r() * 5) / 2 : 0;
  const flags = r() < 0.2 ? Math.floor(r() * 0xffffffff) : 0;
  const coin = r();
  const ops: [string, (d: SharedDict | MapSharedDict) => unknown][] = [
    ['set', (d) => d.set(k, v, ttl, flags)],
    ['safeSet', (d) => d.safeSet(k, v, ttl, flags)],
    ['add', (d) => (v === undefined ? null : d.add(k, v, ttl, flags))],
    ['safeAdd', (d) => (v === undefined ? null : d.safeAdd(k, v, ttl, flags))],
    ['replace', (d) => (v === undefined ? null : d.replace(k, v, ttl, flags))],
    ['get', (d) => d.get(k)],
    ['getWithFlags', (d) => d.getWithFlags(k)],
    ['getStale', (d) => d.getStale(k)],
    ['delete', (d) => d.delete(k)],
    ['incr', (d) => d.incr(k, 1)],
    ['incr init', (d) => d.incr(k, 2, 10, ttl)],
    ['lpush', (d) => d.lpush(k, typeof v === 'boolean' || v === undefined ? 'x' : v)],
    ['rpush', (d) => d.rpush(k, typeof v === 'boolean' || v === undefined ? 7 : v)],
    ['lpop', (d) => d.lpop(k)],
    ['rpop', (d) => d.rpop(k)],
    ['llen', (d) => d.llen(k)],
    ['ttl', (d) => d.ttl(k)],
    ['expire', (d) => d.expire(k, ttl)],
    ['getKeys', (d) => d.getKeys(0)],
    ['freeSpace', (d) => d.freeSpace()],
    ['flushExpired', (d) => d.flushExpired(coin < 0.5 ? 0 : 2)],
    ['flushAll', (d) => (coin < 0.02 ? d.flushAll() : null)],
  ];
  const [name, run] = ops[Math.floor(r() * ops.length)] as [string, (d: SharedDict | MapSharedDict) => unknown];
  return { name: `${name}(${JSON.stringify(k.slice(0, 8))})`, run };
}

describe('shared-memory SharedDict against the Map-based dict', () => {
  for (const [capacity, seed] of [[2_000, 1], [6_000, 2], [20_000, 3], [100_000, 4]] as const) {
    it(`gives identical results over 20000 random calls (${capacity} bytes, seed ${seed})`, () => {
      const r = rng(seed);
      const c1 = clock();
      const c2 = clock();
      const shm = new SharedDict('d', capacity, { clock: c1 });
      const map = new MapSharedDict('d', capacity, { clock: c2 });
      for (let i = 0; i < 20_000; i++) {
        if (r() < 0.05) {
          const ms = Math.floor(r() * 1500);
          c1.t += ms;
          c2.t += ms;
        }
        const op = randomOp(r);
        const a = op.run(shm);
        const b = op.run(map);
        if (JSON.stringify(a) !== JSON.stringify(b)) expect({ call: i, op: op.name, shm: a }).toEqual({ call: i, op: op.name, shm: b });
      }
      expect(shm.getKeys(0)).toEqual(map.getKeys(0));
      expect(shm.freeSpace()).toBe(map.freeSpace());
    });
  }
});
