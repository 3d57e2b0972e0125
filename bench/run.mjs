// `pnpm bench`: request rates of phasekit and Fastify against bare node:http, measured in one run.
// Each target runs in its own process; autocannon drives it from this one. Rounds alternate the
// targets so drift on the machine hits all of them alike; the median round counts. Beside the
// rate, each phasekit/node target reports its server CPU time per request (process.cpuUsage() in
// the server, user + system, over the measured load): steadier than requests/s on a shared machine.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { cpus } from 'node:os';
import autocannon from 'autocannon';

const MODULE_DIRS = ['/usr/lib/nginx/modules', '/usr/share/nginx/modules'];
const NGINX = existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : 'nginx';

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')));
const SECONDS = Number(args.get('seconds') ?? 5);
const ROUNDS = Number(args.get('rounds') ?? 3);
const CONNECTIONS = Number(args.get('connections') ?? 32);
const TARGETS = (args.get('targets') ?? `node,phasekit-ts-content,phasekit-ts,phasekit-lua-content,phasekit-lua,fastify${hasNginxLua() ? ',nginx-lua' : ''}`).split(',');
const LABELS = {
  node: 'bare node:http',
  'phasekit-ts': 'phasekit, TS handlers in 6 phases',
  'phasekit-ts-content': 'phasekit, TS content handler',
  'phasekit-lua-content': 'phasekit, Lua content handler',
  'phasekit-lua': 'phasekit, Lua in 6 phases',
  fastify: 'Fastify, one route',
  'nginx-lua': 'nginx + lua-nginx-module, Lua in 6 phases (1 worker)',
};

/** The directory holding lua-nginx-module (Debian's libnginx-mod-http-lua), if installed. */
function luaModuleDir() {
  try {
    execFileSync(NGINX, ['-V'], { stdio: 'ignore' });
    return MODULE_DIRS.find((dir) => existsSync(join(dir, 'ngx_http_lua_module.so')));
  } catch {
    return undefined;
  }
}

function hasNginxLua() {
  return luaModuleDir() !== undefined;
}

async function startNginxLua() {
  const prefix = mkdtempSync(join(tmpdir(), 'phasekit-bench-nginx-'));
  mkdirSync(join(prefix, 'logs'));
  const port = 20000 + Math.floor(Math.random() * 20000);
  const dir = luaModuleDir();
  writeFileSync(join(prefix, 'nginx.conf'), `load_module ${dir}/ndk_http_module.so;
load_module ${dir}/ngx_http_lua_module.so;
worker_processes 1; daemon off; pid ${prefix}/nginx.pid; error_log ${prefix}/logs/error.log;
events { worker_connections 4096; }
http { access_log off; default_type text/plain; lua_shared_dict stats 1m;
  server { listen 127.0.0.1:${port};
    location = /bench {
      rewrite_by_lua_block { ngx.ctx.started = true }
      access_by_lua_block { if ngx.var.arg_deny then return ngx.exit(403) end }
      content_by_lua_block { ngx.say("hello") }
      header_filter_by_lua_block { ngx.header["X-Phase"] = "1" }
      body_filter_by_lua_block { ngx.arg[1] = string.upper(ngx.arg[1]) }
      log_by_lua_block { ngx.shared.stats:incr("requests", 1, 0) }
    } } }\n`);
  const child = spawn(NGINX, ['-p', prefix, '-c', join(prefix, 'nginx.conf')], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 500));
  return { child, url: `http://127.0.0.1:${port}/bench`, stopSignal: 'SIGQUIT' };
}

async function start(kind) {
  if (kind === 'nginx-lua') return startNginxLua();
  const child = spawn(process.execPath, [new URL('./servers.mjs', import.meta.url).pathname, kind], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [data] = await once(child.stdout, 'data');
  const port = String(data).trim();
  return { child, url: `http://127.0.0.1:${port}/bench`, cpu: `http://127.0.0.1:${port}/__cpu` };
}

/** Server CPU time (µs) since the previous call: GET /__cpu on the target (node and phasekit targets). */
async function serverCpu(cpu) {
  if (!cpu) return NaN;
  const res = await globalThis.fetch(cpu);
  return Number(await res.text());
}

function load(url, seconds) {
  return new Promise((resolve, reject) => {
    autocannon({ url, connections: CONNECTIONS, duration: seconds, pipelining: 1 }, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

const rates = Object.fromEntries(TARGETS.map((t) => [t, []]));
const cpuPerRequest = Object.fromEntries(TARGETS.map((t) => [t, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (const kind of round % 2 === 0 ? TARGETS : [...TARGETS].reverse()) {
    const { child, url, cpu } = await start(kind);
    await load(url, 1); // warm-up: JIT and connection set-up
    await serverCpu(cpu);
    const r = await load(url, SECONDS);
    const used = await serverCpu(cpu);
    if (r.non2xx > 0 || r.errors > 0) throw new Error(`${kind}: ${r.non2xx} non-2xx, ${r.errors} errors`);
    rates[kind].push(r.requests.average);
    cpuPerRequest[kind].push(used / r.requests.total);
    child.kill(kind === 'nginx-lua' ? 'SIGQUIT' : 'SIGTERM');
    await once(child, 'exit');
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const base = median(rates.node ?? [NaN]);
const baseCpu = median(cpuPerRequest.node ?? [NaN]);
console.log(`\n${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}`);
console.log(`autocannon: ${CONNECTIONS} connections, ${ROUNDS} rounds × ${SECONDS} s per target, median round\n`);
console.log('| target | requests/s | ratio to bare node:http | rounds | server CPU µs/request | CPU ratio (node / target) |');
console.log('| --- | ---: | ---: | --- | ---: | ---: |');
for (const kind of TARGETS) {
  const m = median(rates[kind]);
  const all = rates[kind].map((r) => Math.round(r / 1000)).join(', ');
  const c = median(cpuPerRequest[kind]);
  const cpu = Number.isNaN(c) ? '—' : `${c.toFixed(1)} (${cpuPerRequest[kind].map((x) => x.toFixed(1)).join(', ')})`;
  const cpuRatio = Number.isNaN(c) ? '—' : `${(baseCpu / c).toFixed(2)}×`;
  console.log(`| ${LABELS[kind] ?? kind} | ${Math.round(m).toLocaleString('en-US')} | ${(m / base).toFixed(2)}× | ${all} (k/s) | ${cpu} | ${cpuRatio} |`);
}
