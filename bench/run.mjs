// `pnpm bench`: request rates of phasekit and Fastify against bare node:http, measured in one run.
// Each target runs in its own process; autocannon drives it from this one. Rounds alternate the
// targets so drift on the machine hits all of them alike; the median round counts.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { cpus } from 'node:os';
import autocannon from 'autocannon';

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')));
const SECONDS = Number(args.get('seconds') ?? 5);
const ROUNDS = Number(args.get('rounds') ?? 3);
const CONNECTIONS = Number(args.get('connections') ?? 50);
const TARGETS = (args.get('targets') ?? 'node,phasekit-ts,phasekit-lua-content,phasekit-lua,fastify').split(',');
const LABELS = {
  node: 'bare node:http',
  'phasekit-ts': 'phasekit, TS handlers in 6 phases',
  'phasekit-lua-content': 'phasekit, Lua content handler',
  'phasekit-lua': 'phasekit, Lua in 6 phases',
  fastify: 'Fastify, one route',
};

async function start(kind) {
  const child = spawn(process.execPath, [new URL('./servers.mjs', import.meta.url).pathname, kind], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [data] = await once(child.stdout, 'data');
  return { child, url: `http://127.0.0.1:${String(data).trim()}/bench` };
}

function load(url, seconds) {
  return new Promise((resolve, reject) => {
    autocannon({ url, connections: CONNECTIONS, duration: seconds, pipelining: 1 }, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

const rates = Object.fromEntries(TARGETS.map((t) => [t, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (const kind of round % 2 === 0 ? TARGETS : [...TARGETS].reverse()) {
    const { child, url } = await start(kind);
    await load(url, 1); // warm-up: JIT and connection set-up
    const r = await load(url, SECONDS);
    if (r.non2xx > 0 || r.errors > 0) throw new Error(`${kind}: ${r.non2xx} non-2xx, ${r.errors} errors`);
    rates[kind].push(r.requests.average);
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const base = median(rates.node ?? [NaN]);
console.log(`\n${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}`);
console.log(`autocannon: ${CONNECTIONS} connections, ${ROUNDS} rounds × ${SECONDS} s per target, median round\n`);
console.log('| target | requests/s | ratio to bare node:http | rounds |');
console.log('| --- | ---: | ---: | --- |');
for (const kind of TARGETS) {
  const m = median(rates[kind]);
  const all = rates[kind].map((r) => Math.round(r / 1000)).join(', ');
  console.log(`| ${LABELS[kind] ?? kind} | ${Math.round(m).toLocaleString('en-US')} | ${(m / base).toFixed(2)}× | ${all} (k/s) |`);
}
