// `node bench/redis.mjs` (after `pnpm build`): a Redis GET per request through a Lua cosocket (phasekit)
// against the same request in a plain node:http handler using ioredis, all against one local
// redis-server. Two more targets show where the difference lies: the cosocket pattern in plain JS
// (a pooled connection per request in flight, no pipelining) and phasekit's cosocket from TypeScript.
// Rounds alternate the targets; the median round counts. CPU per request is the server process's
// process.cpuUsage() over the measured seconds divided by the requests served.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, connect } from 'node:net';
import { cpus } from 'node:os';
import autocannon from 'autocannon';
import { request } from 'undici';

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')));
const SECONDS = Number(args.get('seconds') ?? 5);
const ROUNDS = Number(args.get('rounds') ?? 5);
const CONNECTIONS = Number(args.get('connections') ?? 50);
const servers = new URL('./servers.mjs', import.meta.url).pathname;

async function freePort() {
  const s = createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

async function startRedis() {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise((r) => {
      const c = connect(port, '127.0.0.1', () => {
        c.end('*3\r\n$3\r\nSET\r\n$9\r\nbench:key\r\n$5\r\nHELLO\r\n');
        r(true);
      });
      c.on('error', () => r(false));
    });
    if (ok) return { port, stop: async () => { child.kill('SIGTERM'); await once(child, 'exit'); } };
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('redis-server did not start');
}

async function startTarget(kind, redisPort) {
  const child = spawn(process.execPath, [servers, kind], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, REDIS_PORT: String(redisPort) } });
  const [data] = await once(child.stdout, 'data');
  return { url: `http://127.0.0.1:${String(data).trim()}`, stop: async () => { child.kill('SIGTERM'); await once(child, 'exit'); } };
}

function load(url, seconds) {
  return new Promise((resolve, reject) => autocannon({ url, connections: CONNECTIONS, duration: seconds }, (err, r) => (err ? reject(err) : resolve(r))));
}

const cpuSince = async (url) => Number(await (await request(`${url}/__cpu`)).body.text());

/** redis-server's own CPU time so far (INFO cpu), in µs. */
function redisCpu(port) {
  return new Promise((resolve, reject) => {
    const c = connect(port, '127.0.0.1', () => c.write('*2\r\n$4\r\nINFO\r\n$3\r\ncpu\r\n'));
    let text = '';
    c.on('data', (d) => {
      text += d;
      const user = /used_cpu_user:([\d.]+)/.exec(text);
      const sys = /used_cpu_sys:([\d.]+)/.exec(text);
      if (user && sys) {
        c.destroy();
        resolve((Number(user[1]) + Number(sys[1])) * 1e6);
      }
    });
    c.on('error', reject);
  });
}

const redis = await startRedis();
const targets = ['redis-ioredis', 'redis-node-pool', 'redis-phasekit-ts', 'redis-phasekit'];
const labels = {
  'redis-ioredis': 'node:http + ioredis',
  'redis-node-pool': 'node:http + a pooled connection per request (plain JS)',
  'redis-phasekit-ts': 'phasekit, TypeScript handler, ngx.socket GET',
  'redis-phasekit': 'phasekit, Lua handler, cosocket GET',
};
const rates = Object.fromEntries(targets.map((t) => [t, []]));
const cpu = Object.fromEntries(targets.map((t) => [t, []]));
const rcpu = Object.fromEntries(targets.map((t) => [t, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (const kind of round % 2 === 0 ? targets : [...targets].reverse()) {
    const target = await startTarget(kind, redis.port);
    const url = `${target.url}/bench`;
    await load(url, 1);
    await cpuSince(target.url);
    const redisBefore = await redisCpu(redis.port);
    const r = await load(url, SECONDS);
    const usedMicros = await cpuSince(target.url);
    rcpu[kind].push(((await redisCpu(redis.port)) - redisBefore) / r.requests.total);
    if (r.non2xx > 0 || r.errors > 0) throw new Error(`${kind}: ${r.non2xx} non-2xx, ${r.errors} errors`);
    rates[kind].push(r.requests.average);
    cpu[kind].push(usedMicros / r.requests.total);
    await target.stop();
  }
}
await redis.stop();

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const base = median(rates['redis-ioredis']);
const baseCpu = median(cpu['redis-ioredis']);
console.log(`\n${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}`);
console.log(`autocannon: ${CONNECTIONS} connections, ${ROUNDS} rounds × ${SECONDS} s per target, median round; redis-server on 127.0.0.1\n`);
console.log('| target | requests/s | ratio to ioredis | server CPU µs/request | CPU ratio | redis-server CPU µs/request | rounds (k/s) |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | --- |');
for (const kind of targets) {
  const m = median(rates[kind]);
  const c = median(cpu[kind]);
  console.log(`| ${labels[kind]} | ${Math.round(m).toLocaleString('en-US')} | ${(m / base).toFixed(2)}× | ${c.toFixed(1)} | ${(c / baseCpu).toFixed(2)}× | ${median(rcpu[kind]).toFixed(1)} | ${rates[kind].map((x) => (x / 1000).toFixed(1)).join(', ')} |`);
}
