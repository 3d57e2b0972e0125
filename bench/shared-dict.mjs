// Benchmark: SharedDict get/set/incr from TypeScript, in ops/s, beside a bare Map doing the same work.
//
//   pnpm build && node bench/shared-dict.mjs
//   node --conditions=source --import tsx bench/shared-dict.mjs     (TS sources, no build)
//
// Goals (issue 4): get >= 10M ops/s, set >= 5M ops/s. Beside each row, a bare Map doing the
// nearest plain work (a get plus Date.now() for "get, ttl"; delete-the-oldest-then-set for
// "set, evicting") is the ceiling: no LRU list, accounting or OpenResty result tuples. The ratio column
// is what the dict costs over it.

import { SharedDict } from '@phasekit/core';

const KEYS = 10_000;
const OPS = 2_000_000;
const ROUNDS = Number(process.env.ROUNDS ?? 7);

const keys = Array.from({ length: KEYS }, (_, i) => `key:${i}`);

/** Best-of-ROUNDS ops/s for `fn(i)` run OPS times (the first rounds warm the JIT up). */
function measure(fn) {
  let best = 0;
  let sink = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0, k = 0; i < OPS; i++) {
      sink ^= fn(keys[k]) ? 1 : 0;
      if (++k === KEYS) k = 0;
    }
    const ns = Number(process.hrtime.bigint() - t0);
    best = Math.max(best, (OPS * 1e9) / ns);
  }
  if (sink === 2) console.log('unreachable');
  return best;
}

const dict = new SharedDict('bench', '64m');
for (const k of keys) dict.set(k, 1);
// Every entry with a TTL: each get also reads the clock.
const ttlDict = new SharedDict('ttl', '64m');
for (const k of keys) ttlDict.set(k, 1, 3600);
// Room for half the keys: walking all of them, every set inserts and evicts the LRU entry.
const small = new SharedDict('small', (68 + 9 + 8) * (KEYS / 2));
const counters = new SharedDict('counters', '64m');
for (const k of keys) counters.set(k, 0);
const map = new Map(keys.map((k) => [k, 1]));
const lru = new Map(keys.slice(KEYS / 2).map((k) => [k, 1]));
let oldest = KEYS / 2;
const far = Date.now() + 3600_000;

let n = 0;
const rows = [
  {
    op: 'get',
    goal: 10e6,
    dict: measure((k) => dict.get(k)),
    map: measure((k) => map.get(k)),
  },
  {
    op: 'get, ttl',
    goal: 0,
    dict: measure((k) => ttlDict.get(k)),
    map: measure((k) => (Date.now() < far ? map.get(k) : undefined)),
  },
  {
    op: 'set',
    goal: 5e6,
    dict: measure((k) => dict.set(k, ++n)[0]),
    map: measure((k) => map.set(k, ++n)),
  },
  {
    op: 'set, evicting',
    goal: 0,
    dict: measure((k) => small.set(k, ++n)[2]),
    map: measure((k) => {
      lru.delete(keys[oldest]);
      if (++oldest === KEYS) oldest = 0;
      return lru.set(k, ++n);
    }),
  },
  {
    op: 'incr',
    goal: 0,
    dict: measure((k) => counters.incr(k, 1)[0]),
    map: measure((k) => map.set(k, map.get(k) + 1)),
  },
];

const fmt = (x) => `${(x / 1e6).toFixed(2)}M`;
console.log(`SharedDict, ${KEYS} keys, ${OPS} ops per round, best of ${ROUNDS} rounds, node ${process.version}`);
console.log('');
console.log('| op            | dict ops/s | bare Map ops/s | dict / Map | goal   | met |');
console.log('| ------------- | ---------- | -------------- | ---------- | ------ | --- |');
for (const r of rows) {
  const goal = r.goal ? fmt(r.goal) : '-';
  const met = r.goal ? (r.dict >= r.goal ? 'yes' : 'NO') : '-';
  console.log(
    `| ${r.op.padEnd(13)} | ${fmt(r.dict).padStart(10)} | ${fmt(r.map).padStart(14)} | ${r.dict / r.map < 10 ? (r.dict / r.map).toFixed(2).padStart(10) : '>10'.padStart(10)} | ${goal.padStart(6)} | ${met.padEnd(3)} |`,
  );
}

// From Lua: one content handler loops over ngx.shared.DICT calls (each a Lua → JS crossing).
const { createEngine } = await import('phasekit');
const LUA_OPS = 1_000_000;
const engine = await createEngine({
  sharedDicts: { lua: '64m' },
  lua: { maxRunMs: 0 },
  locations: [{
    match: '/',
    content: {
      lua: `
        local d, n, op = ngx.shared.lua, ${LUA_OPS}, ngx.var.arg_op
        for i = 1, 1000 do d:set("key:" .. i, i) end
        local clock = os.clock
        local t = clock()
        if op == "get" then for i = 1, n do d:get("key:" .. (i % 1000 + 1)) end
        elseif op == "set" then for i = 1, n do d:set("key:" .. (i % 1000 + 1), i) end
        else for i = 1, n do d:incr("key:" .. (i % 1000 + 1), 1) end end
        ngx.print(clock() - t)`,
    },
  }],
}, { logger: (e) => console.error(e.message) });
const exchange = (op) => ({
  method: 'GET', url: `/?op=${op}`, httpVersion: '1.1', headers: {}, rawHeaders: [], remoteAddress: '127.0.0.1', remotePort: 1,
  localAddress: '127.0.0.1', localPort: 2, secure: false, readBody: () => Promise.resolve(new Uint8Array()),
  respond: (_s, _h, body) => void (exchange.last = String(body)), writeHead() {}, write: () => true, end: (d) => d?.(false),
  drained: () => Promise.resolve(), abort() {},
});
console.log('');
console.log(`From Lua (${LUA_OPS.toLocaleString('en-US')} calls in one handler, os.clock):`);
console.log('');
console.log('| op  | Lua ops/s | goal  | met |');
console.log('| --- | --------- | ----- | --- |');
for (const op of ['get', 'set', 'incr']) {
  let best = 0;
  for (let r = 0; r < 3; r++) {
    engine.handle(exchange(op));
    best = Math.max(best, LUA_OPS / Number(exchange.last));
  }
  const goal = op === 'get' ? 1e6 : 0;
  console.log(`| ${op.padEnd(3)} | ${fmt(best).padStart(9)} | ${goal ? fmt(goal) : '-'.padStart(5)} | ${goal ? (best >= goal ? 'yes' : 'NO') : '-'}   |`);
}
await engine.close();
