// Benchmark: requests/s of `phasekit serve` with one engine in the main thread, and with 1, 2 and
// 4 worker threads (--workers), on a Lua handler that increments a shared-dict counter. The load
// generator (autocannon, this process) runs on the same machine and competes for its cores, so
// beside requests/s the table gives the server's CPU time per request (from /proc: every thread
// of the server process) and requests per server CPU-second (the per-core figure).
//
//   npx -y node@22 --conditions=source --import tsx bench/workers.mjs     (Node >= 22.12 for --workers)
//
// Median of ROUNDS interleaved rounds of DURATION seconds each.

import { spawn } from 'node:child_process';
import { readFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

const ROUNDS = Number(process.env.ROUNDS ?? 3);
const DURATION = Number(process.env.DURATION ?? 4);
const CONNECTIONS = 64;
const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'packages/phasekit/bin/phasekit.mjs');
const dir = mkdtempSync(join(tmpdir(), 'phasekit-bench-'));
const config = join(dir, 'config.json');
// HANDLER=heavy: ~1 ms of Lua arithmetic per request, so the server, not the load generator,
// needs the cores.
const HEAVY = process.env.HANDLER === 'heavy' ? 'local x = 0\nfor i = 1, 300000 do x = x + i % 7 end\n' : '';
writeFileSync(config, JSON.stringify({
  sharedDicts: { stats: '1m' },
  locations: [{ match: '/', content: { lua: `${HEAVY}local n = ngx.shared.stats:incr("hits", 1, 0)\nngx.say("hello ", n)` } }],
}));

const ONLY = process.env.SETUPS?.split(',');
const SETUPS = [
  { name: 'one engine, main thread (no --workers)', args: [] },
  { name: '--workers 1', args: ['--workers', '1'] },
  { name: '--workers 2', args: ['--workers', '2'] },
  { name: '--workers 4', args: ['--workers', '4'] },
].filter((s) => ONLY === undefined || ONLY.includes(s.args[1] ?? '0'));

function start(args) {
  const child = spawn(process.execPath, [...process.execArgv, bin, 'serve', config, '--listen', '127.0.0.1:0', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve({ child, url: m[1] });
    });
    child.once('exit', (code) => reject(new Error(`server exited ${code}: ${out}`)));
  });
}

/** CPU seconds used so far by every thread of process `pid`. */
function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks (100/s)
}

const runs = Object.fromEntries(SETUPS.map((s) => [s.name, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (const setup of SETUPS) {
    const { child, url } = await start(setup.args);
    await autocannon({ url, connections: CONNECTIONS, duration: 1 }); // warm-up
    const cpu0 = cpuSeconds(child.pid);
    const r = await autocannon({ url, connections: CONNECTIONS, duration: DURATION });
    const cpu = cpuSeconds(child.pid) - cpu0;
    if (r.non2xx > 0 || r.errors > 0) throw new Error(`${setup.name}: ${r.non2xx} non-2xx, ${r.errors} errors`);
    runs[setup.name].push({ rps: r.requests.total / DURATION, cpuPerReq: cpu / r.requests.total });
    child.kill('SIGTERM');
    await new Promise((res) => child.once('exit', res));
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const base = median(runs[(SETUPS.find((s) => s.args[1] === '1') ?? SETUPS[0]).name].map((r) => r.rps));
console.log(`phasekit serve, Lua handler${HEAVY ? ' (~1 ms of arithmetic)' : ''} + shared-dict incr, ${CONNECTIONS} connections, ${DURATION} s per run, median of ${ROUNDS} interleaved rounds`);
console.log(`node ${process.version}, ${availableParallelism()} CPUs shared by the server and the load generator\n`);
console.log('| setup | requests/s | vs --workers 1 | server CPU per request | requests per server CPU-second |');
console.log('| --- | --- | --- | --- | --- |');
for (const s of SETUPS) {
  const rps = median(runs[s.name].map((r) => r.rps));
  const cpu = median(runs[s.name].map((r) => r.cpuPerReq));
  console.log(`| ${s.name} | ${Math.round(rps)} | ${(rps / base).toFixed(2)} | ${(cpu * 1e6).toFixed(1)} µs | ${Math.round(1 / cpu)} |`);
}
