// RSS of an engine with its Lua VM when idle, and across 1M requests through Lua in six phases
// (in-process, no sockets: what grows here is the engine's and the VM's own memory).
import { createEngine } from 'phasekit';
import { fakeExchange, sixPhasesLua } from './configs.mjs';

const REQUESTS = Number(process.env.REQUESTS ?? 1_000_000);
const mb = (n) => (n / 1024 / 1024).toFixed(1);

globalThis.gc?.();
const before = process.memoryUsage().rss;
const engine = await createEngine(sixPhasesLua, { logger: () => undefined });
globalThis.gc?.();
const idle = process.memoryUsage().rss;

const exchange = fakeExchange('/bench?x=1');

console.log(`\nNode ${process.version}: an engine with Lua in 6 phases\n`);
console.log(`| point | RSS | detail |`);
console.log(`| --- | ---: | --- |`);
console.log(`| process before the engine | ${mb(before)} MB | |`);
console.log(`| idle engine with its Lua VM | ${mb(idle)} MB | +${mb(idle - before)} MB |`);
const started = process.hrtime.bigint();
for (let i = 1; i <= REQUESTS; i++) {
  engine.handle(exchange);
  if (i % 200_000 === 0) {
    await new Promise((r) => setImmediate(r));
    globalThis.gc?.();
    const vm = engine.runtimes[0]?.vm?.stats();
    const heap = process.memoryUsage();
    console.log(`| after ${i.toLocaleString('en-US')} requests | ${mb(heap.rss)} MB | JS heap ${mb(heap.heapUsed)} MB, Lua heap ${mb(vm?.luaBytes ?? 0)} MB, wasm memory ${mb(vm?.wasmHeapBytes ?? 0)} MB, registry ${vm?.registryEntries} |`);
  }
}
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
console.log(`\n${exchange.responses.toLocaleString('en-US')} responses in ${seconds.toFixed(1)} s (${Math.round(REQUESTS / seconds / 1000)}k/s in-process); shared dict counter: ${engine.sharedDicts.stats.get('requests')}`);
await engine.close();
