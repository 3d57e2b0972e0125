// Per-request cost of the pipeline alone (no sockets): ns per request for TS and Lua handlers.
// Run with a profiler to see where a request's time goes: node --cpu-prof bench/in-process.mjs
import { createEngine } from 'phasekit';
import { contentLua, contentTs, fakeExchange, sixPhasesLua, sixPhasesTs } from './configs.mjs';

const N = Number(process.env.REQUESTS ?? 200_000);
console.log(`\nNode ${process.version}: in-process cost per request (median of 3 × ${N.toLocaleString('en-US')})\n`);
console.log('| engine | ns/request | requests/s | CPU ns/request |');
console.log('| --- | ---: | ---: | ---: |');
for (const [label, config] of [['TS content handler', contentTs], ['TS in 6 phases', sixPhasesTs], ['Lua content handler', contentLua], ['Lua in 6 phases', sixPhasesLua]]) {
  const engine = await createEngine(config, { logger: () => undefined });
  const exchange = fakeExchange();
  const runs = [];
  const cpu = [];
  for (let round = 0; round < 4; round++) {
    const t = process.hrtime.bigint();
    const c = process.cpuUsage();
    for (let i = 0; i < N; i++) engine.handle(exchange);
    const used = process.cpuUsage(c);
    if (round > 0) {
      runs.push(Number(process.hrtime.bigint() - t) / N);
      cpu.push(((used.user + used.system) * 1000) / N);
    }
  }
  const ns = runs.sort((a, b) => a - b)[1];
  const cpuNs = cpu.sort((a, b) => a - b)[1];
  console.log(`| ${label} | ${Math.round(ns).toLocaleString('en-US')} | ${Math.round(1e9 / ns).toLocaleString('en-US')} | ${Math.round(cpuNs).toLocaleString('en-US')} |`);
  await engine.close();
}
