// `node bench/chaos.mjs [--seconds=60] [--concurrency=16] [--budget=1000] [--skip=bomb-rep,spin]`: mixed traffic against
// `phasekit serve` in a child process, to see that no input or handler freezes or kills it.
// Not a test: it reports figures. 90% of the requests are normal; the rest are hostile: ReDoS
// inputs for ngx.re, memory bombs, CPU spinners, clients that abort, hostile header names, and
// handlers that set framing headers or fail where they cannot wait. It reports whether the
// process stayed up, requests that took longer than the budget (lua.maxRunMs) or never
// finished, the p50/p99 latency of normal requests against 1.5 × budget, the server's RSS
// (start, peak, end) and its CPU time per request.
import { spawn } from 'node:child_process';
import { readFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')));
const SECONDS = Number(args.get('seconds') ?? 60);
const CONCURRENCY = Number(args.get('concurrency') ?? 16);
const BUDGET_MS = Number(args.get('budget') ?? 1000);
/** A request with no answer (or close) after this long counts as hung. */
const HANG_MS = Number(args.get('hang') ?? Math.max(10_000, 10 * BUDGET_MS));
const root = fileURLToPath(new URL('..', import.meta.url));

const CONFIG = `
const redos = 'ngx.re.match(ngx.var.arg_s or "", [[^(\\\\w+\\\\s?)*$]], "jo") ngx.say("done")';
export default {
  lua: { maxRunMs: ${BUDGET_MS} },
  sharedDicts: { hits: '1m' },
  locations: [
    { match: '= /normal', content: { lua: 'ngx.shared.hits:incr("n", 1, 0) ngx.say("ok ", ngx.var.arg_i or "")' } },
    { match: '= /normal-ts', content: (ngx) => { ngx.say('ok'); } },
    { match: '= /redos', content: { lua: redos } },
    { match: '= /bomb-rep', content: { lua: 'local s = string.rep("x", 100 * 1024 * 1024) local t = {} for i = 1, 200 do t[i] = s .. i end ngx.say(#t)' } },
    { match: '= /bomb-table', content: { lua: 'local t = {} for i = 1, 1e9 do t[i] = string.rep("y", 1024 * 1024) .. i end ngx.say(#t)' } },
    { match: '= /bomb-upper', content: { lua: 'local s = string.rep("a", 10 * 1024 * 1024) for i = 1, 1000 do s = s:upper():lower() end ngx.say(#s)' } },
    { match: '= /spin', content: { lua: 'while true do end' } },
    { match: '= /spin-phases', rewrite: { lua: 'local t = os.clock() while os.clock() - t < ${(BUDGET_MS * 0.9) / 1000} do end' }, access: { lua: 'local t = os.clock() while os.clock() - t < ${(BUDGET_MS * 0.9) / 1000} do end' }, content: { lua: 'local t = os.clock() while os.clock() - t < ${(BUDGET_MS * 0.9) / 1000} do end ngx.say("x")' } },
    { match: '= /slow', content: { lua: 'ngx.say("a") ngx.flush(true) ngx.sleep(0.3) ngx.say("b")' } },
    { match: '= /headers', content: { lua: 'local h = ngx.req.get_headers() ngx.say(h.constructor, h.toString, h.__proto__, ngx.var.http_constructor)' } },
    { match: '= /framing', content: { lua: 'ngx.header["Transfer-Encoding"] = "chunked" ngx.header.Trailer = "x" ngx.header[""] = "v" if ngx.var.arg_cl then ngx.header["Content-Length"] = "-5" end ngx.say("x")' } },
    { match: '= /async-filter', content: (ngx) => ngx.say('x'), headerFilter: async () => { throw new Error('async header filter'); } },
    { match: '= /stray', content: (ngx) => { Promise.reject(new Error('stray')); ngx.say('x'); } },
    { match: '= /error-after-say', content: { lua: 'ngx.say("partial") error("boom")' } },
  ],
};
`;

const ALL_HOSTILE = [
  ['redos', () => ({ path: `/redos?s=${'a'.repeat(34)}!` })],
  ['bomb-rep', () => ({ path: '/bomb-rep' })],
  ['bomb-table', () => ({ path: '/bomb-table' })],
  ['bomb-upper', () => ({ path: '/bomb-upper' })],
  ['spin', () => ({ path: '/spin' })],
  ['spin-phases', () => ({ path: '/spin-phases' })],
  ['abort', () => ({ path: '/slow', abortAfter: 50 })],
  ['hostile-headers', () => ({ path: '/headers', headers: ['Host', 'x', 'constructor', 'c', '__proto__', 'p', 'toString', 't', 'hasOwnProperty', 'h'] })],
  ['framing', () => ({ path: Math.random() < 0.5 ? '/framing' : '/framing?cl=1' })],
  ['async-filter', () => ({ path: '/async-filter' })],
  ['stray-rejection', () => ({ path: '/stray' })],
  ['error-after-say', () => ({ path: '/error-after-say' })],
];
/** `--skip=a,b` leaves those hostile kinds out (to tell which of them costs the others). */
const SKIP = new Set((args.get('skip') ?? '').split(',').filter(Boolean));
const HOSTILE = ALL_HOSTILE.filter(([kind]) => !SKIP.has(kind));

function startServer() {
  const dir = mkdtempSync(join(tmpdir(), 'phasekit-chaos-'));
  const file = join(dir, 'chaos.mjs');
  writeFileSync(file, CONFIG);
  const bin = join(root, 'packages/phasekit/bin/phasekit.mjs');
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', bin, 'serve', file, '--listen', '127.0.0.1:0'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let errors = 0;
  child.stderr.on('data', (d) => {
    for (const line of d.toString().split('\n')) if (line.includes('[error]')) errors++;
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve({ child, url: new URL(m[1]), errorLines: () => errors });
    });
    child.on('exit', (code) => reject(new Error(`server exited ${code} before listening: ${out}`)));
  });
}

/** VmRSS and CPU time (user + system, ms) of a process, from /proc. */
function procStats(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    const ticks = Number(stat[11]) + Number(stat[12]);
    return { rss, cpuMs: (ticks * 1000) / 100 };
  } catch {
    return { rss: 0, cpuMs: 0 };
  }
}

function once(url, agent, spec) {
  return new Promise((resolve) => {
    const started = performance.now();
    let settled = false;
    const done = (outcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(hang);
      resolve({ ms: performance.now() - started, outcome });
    };
    const req = request({ host: url.hostname, port: url.port, path: spec.path, agent, headers: spec.headers ?? {} }, (res) => {
      res.on('data', () => undefined);
      res.on('end', () => done(`status ${res.statusCode}`));
      res.on('error', () => done('reset'));
      res.on('aborted', () => done('reset'));
    });
    req.on('error', (err) => done(spec.abortAfter !== undefined ? 'aborted' : err.code === 'ECONNRESET' || err.message === 'socket hang up' ? 'reset' : `error ${err.code ?? err.message}`));
    req.end();
    if (spec.abortAfter !== undefined) setTimeout(() => req.destroy(), spec.abortAfter);
    const hang = setTimeout(() => {
      done('hung');
      req.destroy();
    }, HANG_MS);
  });
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const mb = (b) => `${(b / 1024 / 1024).toFixed(0)} MB`;

async function main() {
  const { child, url, errorLines } = await startServer();
  let exitedWith;
  child.on('exit', (code, signal) => (exitedWith = signal ?? code));
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  // Warm up (VM, JIT), then take the starting RSS.
  for (let i = 0; i < 200; i++) await once(url, agent, { path: `/normal?i=${i}` });
  await new Promise((r) => setTimeout(r, 1000));
  const start = procStats(child.pid);
  let peak = start.rss;
  const sampler = setInterval(() => (peak = Math.max(peak, procStats(child.pid).rss)), 200);

  const normal = [];
  const byKind = new Map();
  const until = performance.now() + SECONDS * 1000;
  let requests = 0;
  const client = async () => {
    while (performance.now() < until && exitedWith === undefined) {
      const hostile = Math.random() < 0.1;
      const [kind, make] = hostile ? HOSTILE[Math.floor(Math.random() * HOSTILE.length)] : ['normal', () => ({ path: Math.random() < 0.5 ? '/normal' : '/normal-ts' })];
      const r = await once(url, agent, make());
      requests++;
      if (kind === 'normal') normal.push(r.ms);
      const k = byKind.get(kind) ?? { n: 0, max: 0, overBudget: 0, hung: 0, outcomes: new Map() };
      k.n++;
      k.max = Math.max(k.max, r.ms);
      if (r.ms > BUDGET_MS) k.overBudget++;
      if (r.outcome === 'hung') k.hung++;
      k.outcomes.set(r.outcome, (k.outcomes.get(r.outcome) ?? 0) + 1);
      byKind.set(kind, k);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, client));
  const loadEnd = procStats(child.pid);
  agent.destroy();
  // RSS after the load: a few idle seconds, then a little normal traffic, as a server sees it.
  await new Promise((r) => setTimeout(r, 5000));
  for (let i = 0; i < 50; i++) await once(url, new Agent(), { path: '/normal' });
  await new Promise((r) => setTimeout(r, 1000));
  const end = procStats(child.pid);
  clearInterval(sampler);
  peak = Math.max(peak, end.rss);
  const alive = exitedWith === undefined && child.exitCode === null;

  normal.sort((a, b) => a - b);
  const p99 = percentile(normal, 99);
  console.log(`chaos: ${SECONDS} s, ${CONCURRENCY} clients, budget (lua.maxRunMs) ${BUDGET_MS} ms, hang = no answer after ${HANG_MS} ms${SKIP.size > 0 ? `, without ${[...SKIP].join(', ')}` : ''}`);
  console.log(`process: ${alive ? 'never exited' : `EXITED (${exitedWith})`}; ${requests} requests; ${errorLines()} [error] log lines`);
  console.log(`normal requests: ${normal.length}, p50 ${percentile(normal, 50).toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${normal.at(-1)?.toFixed(0)} ms; p99 vs 1.5 × budget (${1.5 * BUDGET_MS} ms): ${p99 < 1.5 * BUDGET_MS ? 'below' : 'ABOVE'}`);
  console.log(`server RSS: start ${mb(start.rss)}, peak ${mb(peak)}, end ${mb(end.rss)} (end/start ${(end.rss / start.rss).toFixed(2)}; within 20%: ${end.rss <= start.rss * 1.2 ? 'yes' : 'NO'})`);
  console.log(`server CPU: ${((loadEnd.cpuMs - start.cpuMs) / Math.max(1, requests)).toFixed(2)} ms per request over the run (all kinds)`);
  console.log('kind               count  max ms  >budget  hung  outcomes');
  for (const [kind, k] of [...byKind].sort()) {
    const outcomes = [...k.outcomes].map(([o, n]) => `${o}: ${n}`).join(', ');
    console.log(`${kind.padEnd(18)} ${String(k.n).padStart(5)} ${k.max.toFixed(0).padStart(7)} ${String(k.overBudget).padStart(8)} ${String(k.hung).padStart(5)}  ${outcomes}`);
  }
  const hung = [...byKind.values()].reduce((n, k) => n + k.hung, 0);
  console.log(`hung requests: ${hung}`);
  child.kill('SIGTERM');
  await new Promise((r) => (child.exitCode !== null ? r() : child.on('exit', r)));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
