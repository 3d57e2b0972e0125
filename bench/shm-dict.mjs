// Benchmark: the shared-memory SharedDict against the in-process Map-based dict it replaced, in
// ops/s for get, set and incr: from one thread (alone: no lock; attached: with its Atomics lock)
// and from two worker threads on one dict (summed), with a lost-update check on incr.
//
//   npx -y node@22 --conditions=source --import tsx bench/shm-dict.mjs
//
// (TypeScript sources: the Map-based dict is a test-support file; worker threads load .ts under
// Node 22.) Median of ROUNDS interleaved rounds.

import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { SharedDict } from '@phasekit/core';
import { MapSharedDict } from '../packages/core/src/shared-dict/map-shared-dict.test-support.ts';

const KEYS = 10_000;
const OPS = 2_000_000;
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const keys = Array.from({ length: KEYS }, (_, i) => `key:${i}`);

/** ops/s of `op` on `dict` (OPS calls, cycling over the keys). */
function run(dict, op) {
  let n = 0;
  const t0 = process.hrtime.bigint();
  if (op === 'get') for (let i = 0, k = 0; i < OPS; i++) { dict.get(keys[k]); if (++k === KEYS) k = 0; }
  else if (op === 'set') for (let i = 0, k = 0; i < OPS; i++) { dict.set(keys[k], ++n); if (++k === KEYS) k = 0; }
  else for (let i = 0, k = 0; i < OPS; i++) { dict.incr('counter', 1, 0); dict.incr(keys[k], 1, 0); if (++k === KEYS) k = 0; }
  return (OPS * 1e9) / Number(process.hrtime.bigint() - t0);
}

function fill(dict) {
  for (const k of keys) dict.set(k, 1);
  return dict;
}

if (!isMainThread) {
  const dict = SharedDict.attach(workerData.region);
  parentPort.once('message', (op) => parentPort.postMessage(run(dict, op)));
} else {
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const results = {};
  const put = (row, op, v) => ((results[row] ??= {})[op] ??= []).push(v);
  for (let round = 0; round < ROUNDS; round++) {
    for (const op of ['get', 'set', 'incr']) {
      put('in-process Map dict (before), 1 thread', op, run(fill(new MapSharedDict('m', '64m')), op));
      put('shared-memory dict, 1 thread, no other thread', op, run(fill(new SharedDict('s', '64m')), op));
      const shared = fill(new SharedDict('s', '64m'));
      put('shared-memory dict, 1 thread, region shared (lock)', op, run(SharedDict.attach(shared.region), op));
      // Two threads on one dict: each runs OPS calls, ops/s summed over the wall time of both.
      const two = fill(new SharedDict('s', '64m'));
      const workers = [0, 1].map(() => new Worker(new URL(import.meta.url), { workerData: { region: two.region } }));
      await Promise.all(workers.map((w) => new Promise((r) => w.once('online', r))));
      const t0 = process.hrtime.bigint();
      await Promise.all(workers.map((w) => new Promise((r) => { w.once('message', r); w.postMessage(op); })));
      put('shared-memory dict, 2 threads (sum)', op, (2 * OPS * 1e9) / Number(process.hrtime.bigint() - t0));
      if (op === 'incr') {
        const counter = two.get('counter');
        if (counter !== 2 * OPS) throw new Error(`lost updates: counter ${counter}, expected ${2 * OPS}`);
        put('shared-memory dict, 2 threads (sum)', 'lost', 0);
      }
      await Promise.all(workers.map((w) => w.terminate()));
    }
  }
  const fmt = (x) => `${(x / 1e6).toFixed(2)}M`;
  const base = results['in-process Map dict (before), 1 thread'];
  console.log(`shared dicts, ${KEYS} keys, ${OPS} calls per thread per run, median of ${ROUNDS} interleaved rounds, node ${process.version}`);
  console.log('(incr: two calls per op, one on a counter every thread shares, one on a key of its own)\n');
  console.log('| dict | get ops/s | set ops/s | incr ops/s | vs before (get / set / incr) |');
  console.log('| --- | --- | --- | --- | --- |');
  for (const [row, r] of Object.entries(results)) {
    const ratio = (op) => (median(r[op]) / median(base[op])).toFixed(2);
    console.log(`| ${row} | ${fmt(median(r.get))} | ${fmt(median(r.set))} | ${fmt(median(r.incr))} | ${ratio('get')} / ${ratio('set')} / ${ratio('incr')} |`);
  }
  console.log(`\nincr from 2 threads: the shared counter ended at exactly ${2 * OPS} in every round (no lost update).`);
}
