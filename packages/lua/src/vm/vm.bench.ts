// Micro-benchmarks of the VM bridge (not part of the test run): `npx tsx packages/lua/src/vm/vm.bench.ts [filter]`.
import { LuaVm, drive } from './index.js';

const filter = process.argv[2] ?? '';
const fmt = (x: number): string => (x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(2));

/** One warm-up, then the median of 3 timed runs of `fn` (which performs `ops` operations). */
async function bench(name: string, ops: number, fn: () => unknown, unit = 'ops/s'): Promise<number> {
  if (!name.includes(filter)) return 0;
  await fn();
  const rates: number[] = [];
  for (let r = 0; r < 3; r++) {
    const t0 = performance.now();
    await fn();
    rates.push(ops / ((performance.now() - t0) / 1000));
  }
  rates.sort((a, b) => a - b);
  const med = rates[1] ?? 0;
  console.log(`${name.padEnd(78)} ${fmt(med).padStart(12)} ${unit}`);
  return med;
}

async function main(): Promise<void> {
  const vm = await LuaVm.create(); // default: maxRunMs 1000, count hook on
  const bare = await LuaVm.create({ maxRunMs: 0 }); // no hook
  const capped = await LuaVm.create({ memoryMaxBytes: 256 * 1024 * 1024 });
  for (const v of [vm, bare, capped]) {
    v.defineFunction('noop', () => 0, v.sandbox);
    v.defineFunction('echo', (c) => { c.pushBytes(c.checkBytes(1)); return 1; }, v.sandbox);
    v.defineFunction('inc', (c) => { c.pushNumber(c.checkNumber(1) + 1); return 1; }, v.sandbox);
    v.defineFunction('tick', (c) => c.yield(Promise.resolve(c.value(1))), v.sandbox);
  }
  console.log(`Node ${process.version}, ${new Date().toISOString()}`);

  for (const [label, v] of [['hook on', vm], ['hook off', bare]] as const) {
    const trivial = v.compile('return 1', 'trivial.lua');
    await bench(`spawn + resume of a compiled trivial chunk (${label})`, 1e5, () => {
      for (let i = 0; i < 1e5; i++) v.spawn(trivial).resume();
    });
  }
  // A phase handler doing `ngx.header["X"] = "1"`: a table whose __newindex is a Lua function calling JS.
  const headers: Record<string, string> = {};
  vm.defineFunction('hset', (c) => { headers[c.checkString(1)] = c.string(3) ?? ''; c.pushBoolean(true); return 1; }, vm.sandbox);
  vm.run(
    'local S = ... local set = S.hset S.H = setmetatable({}, { __newindex = function(_, k, v) local ok, err = set(k, 1, v) if not ok then error(err, 2) end end })',
    'bench.header',
    vm.sandbox,
  );
  const trivial = vm.compile('return 1', 'trivial.lua');
  const withArgs = vm.compile('local a, b = ... return a .. b, #a', 'args.lua');
  const setHeader = vm.compile('H["X"] = "1"', 'header.lua');
  await bench('spawn + resume + done, trivial chunk, env fresh', 1e5, () => {
    for (let i = 0; i < 1e5; i++) vm.spawn(trivial).resume();
  });
  await bench('spawn + resume + done, H["X"] = "1" (__newindex -> JS)', 1e5, () => {
    for (let i = 0; i < 1e5; i++) vm.spawn(setHeader).resume();
  });
  await bench('vm.call, trivial chunk, env fresh', 1e5, () => {
    for (let i = 0; i < 1e5; i++) vm.call(trivial);
  });
  await bench('vm.call, trivial chunk, env sandbox', 1e5, () => {
    for (let i = 0; i < 1e5; i++) vm.call(trivial, { env: 'sandbox' });
  });
  await bench('vm.call, H["X"] = "1" (__newindex -> JS)', 1e5, () => {
    for (let i = 0; i < 1e5; i++) vm.call(setHeader);
  });
  await bench('vm.call with 2 string args, 2 results', 1e5, () => {
    for (let i = 0; i < 1e5; i++) vm.call(withArgs, { args: ['hello', 'world'] });
  });
  await bench('compile + spawn + resume of a trivial chunk (no code cache)', 2e4, () => {
    for (let i = 0; i < 2e4; i++) {
      const chunk = vm.compile('return 1', 'trivial.lua');
      vm.spawn(chunk).resume();
      chunk.release();
    }
  });
  await bench('spawn + resume with 2 string args, 2 results', 1e5, () => {
    for (let i = 0; i < 1e5; i++) vm.spawn(withArgs, { args: ['hello', 'world'] }).resume();
  });
  const content = vm.compile(
    'local out, n = {}, 0 for i = 1, 10 do n = n + 1 out[n] = "line " .. i .. "\\n" end return echo(table.concat(out))',
    'content.lua',
  );
  await bench('content-like run: 10 buffered lines, one JS call with the body', 1e5, () => {
    for (let i = 0; i < 1e5; i++) vm.spawn(content).resume();
  });

  const loop = (body: string) => vm.compile(`local n = ... for i = 1, n do ${body} end`, 'loop.lua');
  const calls = 1e6;
  await bench('Lua -> JS call: noop()', calls, () => vm.spawn(loop('noop()'), { args: [calls] }).resume());
  await bench('Lua -> JS call: inc(i) (number in, number out)', calls, () => vm.spawn(loop('inc(i)'), { args: [calls] }).resume());
  await bench('Lua -> JS call: echo("100-byte string") (bytes in, bytes out)', calls, () =>
    vm.spawn(loop(`echo("${'x'.repeat(100)}")`), { args: [calls] }).resume(),
  );

  const waitOnce = vm.compile('local v = tick(1) return v', 'tick.lua');
  await bench('yield/await/resume round trip (1 resolved promise), sequential', 5e4, async () => {
    for (let i = 0; i < 5e4; i++) await drive(vm.spawn(waitOnce));
  });
  await bench('yield/await/resume round trip, 100 in flight', 5e4, async () => {
    for (let b = 0; b < 500; b++) await Promise.all(Array.from({ length: 100 }, () => drive(vm.spawn(waitOnce))));
  });
  const waitMany = vm.compile('for i = 1, 10 do tick(i) end', 'tick10.lua');
  await bench('yield/await/resume round trips, 10 per run (per round trip)', 1e5, async () => {
    for (let i = 0; i < 1e4; i++) await drive(vm.spawn(waitMany));
  });

  for (const [label, v] of [['hook off', bare], ['hook on', vm]] as const) {
    const sum = v.compile('local s = 0 for i = 1, 1e7 do s = s + i end return s', 'sum.lua');
    await bench(`pure Lua: sum 1..1e7 (${label})`, 1, () => v.spawn(sum, { maxRunMs: 0 }).resume(), 'runs/s');
  }
  for (const [label, v] of [['default allocator', vm], ['memoryMaxBytes (JS allocator)', capped]] as const) {
    const alloc = v.compile('local t = {} for i = 1, 1e5 do t[i] = { i } end return #t', 'alloc.lua');
    await bench(`alloc-heavy: 1e5 small tables (${label})`, 1, () => v.spawn(alloc).resume(), 'runs/s');
  }
  const spin = vm.compile('while true do pcall(function() while true do end end) end', 'spin.lua');
  const t0 = performance.now();
  const r = vm.spawn(spin, { maxRunMs: 50 }).resume();
  console.log(`kill of a pcall-swallowing loop with maxRunMs=50: ${r.status} after ${(performance.now() - t0).toFixed(1)} ms`);
  console.log('stats after the run:', vm.stats());
  for (const v of [vm, bare, capped]) v.close();
}

await main();
