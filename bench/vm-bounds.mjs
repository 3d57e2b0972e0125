// Issue 15 rows 3-4: the memory bombs and runaway handlers, through a real server, with RSS.
// `node --expose-gc bench/vm-bounds.mjs` (defaults: requestCpuBudgetMs 1000, lua.maxMemory 256m,
// lua.reloadAbove 128m); `BOUNDS=off` runs the same with the budget, cap and reload turned off.
import { createServer } from 'node:http';
import { performance } from 'node:perf_hooks';
import { request } from 'undici';
import { createEngine, createHandler } from 'phasekit';

const off = process.env.BOUNDS === 'off';
const mb = (n) => `${Math.round(n / 2 ** 20)} MB`;
const settle = async () => {
  for (let i = 0; i < 5; i++) {
    await new Promise((r) => setTimeout(r, 50));
    globalThis.gc?.();
  }
};

const spin = 'local t = os.clock() while os.clock() - t < 0.9 do end';
const engine = await createEngine({
  ...(off ? { requestCpuBudgetMs: 0, lua: { maxMemory: 0, reloadAbove: 0 } } : {}),
  locations: [
    { match: '= /rep', content: { lua: 'for i = 1, 200 do local s = string.rep("x", 100 * 2^20) end ngx.say("done")' } },
    { match: '= /table', content: { lua: 'local t = {} for i = 1, 1e6 do t[i] = string.rep("y", 2^20) .. i end ngx.say("done")' } },
    { match: '= /upper', content: { lua: 'local s = string.rep("a", 10 * 2^20) for i = 1, 200 do local u = s:upper() end ngx.say("done")' } },
    { match: '= /phases', rewrite: { lua: spin }, access: { lua: spin }, content: { lua: `${spin} ngx.say("done")` }, headerFilter: { lua: spin }, bodyFilter: { lua: `if ngx.arg[2] then ${spin} end` }, log: { lua: spin } },
    { match: '= /ok', content: { lua: 'ngx.say("ok")' } },
  ],
}, { logger: () => undefined });
const server = createServer(createHandler(engine));
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${server.address().port}`;

const wasm = () => engine.runtimes[0]?.vm?.wasmMemoryBytes ?? 0;
await settle();
const start = process.memoryUsage().rss;
console.log(`\nNode ${process.version}, bounds ${off ? 'off' : 'on (defaults)'}; RSS at start ${mb(start)}, wasm memory ${mb(wasm())}\n`);
console.log('| request | status | time | server CPU | RSS after | wasm after | RSS once settled |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const path of ['/phases', '/upper', '/rep', '/table', '/ok']) {
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  let status;
  try {
    const res = await request(`${base}${path}`, { headersTimeout: 120_000, bodyTimeout: 120_000 });
    status = res.statusCode;
    await res.body.text();
  } catch (err) {
    status = `closed (${err.code ?? err.message})`;
  }
  const ms = Math.round(performance.now() - t0);
  const used = process.cpuUsage(cpu);
  const rssAfter = process.memoryUsage().rss;
  const wasmAfter = wasm();
  await settle();
  console.log(`| ${path} | ${status} | ${ms} ms | ${Math.round((used.user + used.system) / 1000)} ms | ${mb(rssAfter)} | ${mb(wasmAfter)} | ${mb(process.memoryUsage().rss)} |`);
}
await settle();
const end = process.memoryUsage().rss;
console.log(`\nRSS at the end ${mb(end)} (${end > start ? '+' : ''}${Math.round(((end - start) / start) * 100)}% of the start)`);
server.close();
await engine.close();
