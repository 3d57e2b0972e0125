// Benchmark: incr on a shared dict kept in Redis (a redis-server started here on a free port), in
// ops/s on one connection: one call at a time (each waits for its answer), and 64 calls in
// flight (ioredis pipelines them); from TypeScript (the store) and from Lua (a handler loop,
// every call yielding). The shared-memory dict doing the same from Lua is the baseline.
//
//   node --conditions=source --import tsx bench/redis-dict.mjs
//
// Median of ROUNDS interleaved rounds.

import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { createEngine, inject, RedisConnection, RedisSharedDict, systemClock } from 'phasekit';

const ROUNDS = Number(process.env.ROUNDS ?? 3);
const N = 20_000;

const port = await new Promise((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const p = s.address().port;
    s.close(() => resolve(p));
  });
});
const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'inherit'] });
await new Promise((resolve) => {
  let out = '';
  server.stdout.on('data', (d) => {
    out += d;
    if (/Ready to accept connections/.test(out)) resolve();
  });
});
const url = `redis://127.0.0.1:${port}/0`;

try {
  const conn = new RedisConnection(url, { timeout: 5000, log: console.error });
  const dict = new RedisSharedDict('bench', conn, { capacity: 1 << 20, clock: systemClock });
  await dict.incr('warm', 1, 0);
  const lua = (dict) => ({
    sharedDicts: { d: dict },
    lua: { maxRunMs: 0 },
    locations: [{ match: '/', content: { lua: `local d = ngx.shared.d\nfor i = 1, ${N / 4} do d:incr("lua", 1, 0) end\nngx.print("done")` } }],
  });
  const redisEngine = await createEngine(lua({ size: '1m', store: url }), { logger: console.error });
  const shmEngine = await createEngine(lua('1m'), { logger: console.error });
  const rows = { 'TypeScript, one call at a time': [], 'TypeScript, 64 calls in flight': [], 'Lua handler loop (each call yields)': [], 'Lua handler loop, shared-memory dict (baseline)': [] };
  const timed = async (fn, n) => {
    const t0 = process.hrtime.bigint();
    await fn();
    return (n * 1e9) / Number(process.hrtime.bigint() - t0);
  };
  for (let round = 0; round < ROUNDS; round++) {
    rows['TypeScript, one call at a time'].push(await timed(async () => { for (let i = 0; i < N; i++) await dict.incr('seq', 1, 0); }, N));
    rows['TypeScript, 64 calls in flight'].push(await timed(async () => {
      let next = 0;
      await Promise.all(Array.from({ length: 64 }, async () => { while (next++ < N) await dict.incr('par', 1, 0); }));
    }, N));
    rows['Lua handler loop (each call yields)'].push(await timed(() => inject(redisEngine, '/'), N / 4));
    rows['Lua handler loop, shared-memory dict (baseline)'].push(await timed(() => inject(shmEngine, '/'), N / 4));
  }
  const total = await dict.get('par');
  if (total !== N * ROUNDS) throw new Error(`lost updates: ${total} != ${N * ROUNDS}`);
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(`incr on a Redis-backed shared dict, one connection to a local redis-server, median of ${ROUNDS} rounds, node ${process.version}\n`);
  console.log('| how | incr ops/s |');
  console.log('| --- | --- |');
  for (const [how, xs] of Object.entries(rows)) console.log(`| ${how} | ${Math.round(median(xs))} |`);
  await redisEngine.close();
  await shmEngine.close();
  await conn.close();
} finally {
  server.kill('SIGTERM');
}
