// `node bench/proxy.mjs`: phasekit's proxyPass against a minimal undici proxy (and nginx
// proxy_pass when nginx is installed), all in front of the same bare node:http backend, one run.
import { spawn, execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')));
const SECONDS = Number(args.get('seconds') ?? 5);
const ROUNDS = Number(args.get('rounds') ?? 3);
const CONNECTIONS = Number(args.get('connections') ?? 50);
const servers = new URL('./servers.mjs', import.meta.url).pathname;

async function startNode(kind, env = {}) {
  const child = spawn(process.execPath, [servers, kind], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
  const [data] = await once(child.stdout, 'data');
  return { stop: async () => { child.kill('SIGTERM'); await once(child, 'exit'); }, address: `127.0.0.1:${String(data).trim()}` };
}

function hasNginx() {
  try {
    execFileSync('nginx', ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function startNginx(backend) {
  const prefix = mkdtempSync(join(tmpdir(), 'phasekit-bench-nginx-'));
  mkdirSync(join(prefix, 'logs'));
  const port = 20000 + Math.floor(Math.random() * 20000);
  writeFileSync(join(prefix, 'nginx.conf'), `worker_processes 1; daemon off; pid ${prefix}/nginx.pid; error_log ${prefix}/logs/error.log;
events { worker_connections 4096; }
http { access_log off;
  upstream backend { server ${backend}; keepalive 64; }
  server { listen 127.0.0.1:${port};
    location / { proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection ""; } } }\n`);
  const child = spawn('nginx', ['-p', prefix, '-c', join(prefix, 'nginx.conf')], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 500));
  return { stop: async () => { child.kill('SIGQUIT'); await once(child, 'exit'); }, address: `127.0.0.1:${port}` };
}

function load(url, seconds) {
  return new Promise((resolve, reject) => autocannon({ url, connections: CONNECTIONS, duration: seconds }, (err, r) => (err ? reject(err) : resolve(r))));
}

const backend = await startNode('node');
const targets = ['proxy-undici', 'proxy-phasekit', ...(hasNginx() ? ['nginx'] : [])];
const labels = { 'proxy-undici': 'minimal undici proxy', 'proxy-phasekit': 'phasekit proxyPass', nginx: 'nginx proxy_pass (1 worker)' };
const rates = Object.fromEntries(targets.map((t) => [t, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (const kind of round % 2 === 0 ? targets : [...targets].reverse()) {
    const target = kind === 'nginx' ? await startNginx(backend.address) : await startNode(kind, { BACKEND: backend.address });
    const url = `http://${target.address}/bench`;
    await load(url, 1);
    const r = await load(url, SECONDS);
    if (r.non2xx > 0 || r.errors > 0) throw new Error(`${kind}: ${r.non2xx} non-2xx, ${r.errors} errors`);
    rates[kind].push(r.requests.average);
    await target.stop();
  }
}
await backend.stop();

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const base = median(rates['proxy-undici']);
console.log(`\n${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}`);
console.log(`autocannon: ${CONNECTIONS} connections, ${ROUNDS} rounds × ${SECONDS} s per target, median round; backend: bare node:http\n`);
console.log('| proxy | requests/s | ratio to the minimal undici proxy | rounds |');
console.log('| --- | ---: | ---: | --- |');
for (const kind of targets) {
  const m = median(rates[kind]);
  console.log(`| ${labels[kind]} | ${Math.round(m).toLocaleString('en-US')} | ${(m / base).toFixed(2)}× | ${rates[kind].map((x) => Math.round(x / 1000)).join(', ')} (k/s) |`);
}
