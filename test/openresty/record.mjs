// Records what real nginx + lua-nginx-module answers to every case:
//   pnpm openresty:record [area...] [--grep text]
// For each case: a fresh nginx (its own prefix, port and config from nginx-conf.mjs), the
// case's requests sent in order on fresh connections with the raw client, and the answers
// (plus, with `log: true`, the error-log lines at warn and above) written to
// recordings/<area>.json. With --grep, only the cases whose name contains the text are
// recorded again; the rest of the area's recording is kept.

import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nginxConf } from './nginx-conf.mjs';
import { sendRequest } from './raw-http.mjs';
import { closedPort, fillPlaceholders, listAreas, loadArea, normalizeNginxLog, RECORDINGS_DIR, stripMachinePaths, SUITE_DIR, writeCaseFiles } from './suite.mjs';

const NGINX = process.env.NGINX_BIN ?? '/usr/sbin/nginx';
const PARALLEL = Number(process.env.RECORD_PARALLEL ?? 6);
// Folders holding OpenResty's bundled Lua libraries that Debian's nginx lacks (lua-resty-lock,
// lua-resty-string: their lib/ folders, separated by ";"), for the cases that use them.
const LUALIB = (process.env.OPENRESTY_LUALIB ?? '').split(';').filter((d) => d !== '');

if (!existsSync(NGINX)) {
  console.error(`openresty:record needs real nginx with lua-nginx-module at ${NGINX} (Debian/Ubuntu: apt-get install nginx-extras).`);
  console.error('Set NGINX_BIN to use another binary. The recordings in test/openresty/recordings/ are committed; the test suite does not need nginx.');
  process.exit(1);
}

/** `nginx -V` → the version, and the dynamic modules to load (ndk + lua) when this build has them as modules. */
function discover() {
  const r = spawnSync(NGINX, ['-V'], { encoding: 'utf8' });
  const text = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  const version = /nginx version: (\S+)/.exec(text)?.[1] ?? 'nginx';
  const prefix = /--prefix=(\S+)/.exec(text)?.[1] ?? '';
  const modulesPath = /--modules-path=(\S+)/.exec(text)?.[1] ?? `${prefix}/modules`;
  const modules = ['ndk_http_module.so', 'ngx_http_lua_module.so'].map((so) => join(modulesPath, so)).filter((p) => existsSync(p));
  return { version, modules };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function logSize(file) {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

function readFrom(file, offset) {
  try {
    return readFileSync(file).subarray(offset).toString('utf8');
  } catch {
    return '';
  }
}

/** Waits until nothing new was written to the log for `quietMs`. */
async function logSettled(file, quietMs = 40) {
  let size = logSize(file);
  for (let i = 0; i < 50; i++) {
    await sleep(quietMs);
    const now = logSize(file);
    if (now === size) return now;
    size = now;
  }
  return size;
}

function canConnect(port) {
  return new Promise((resolve) => {
    const s = connect({ port, host: '127.0.0.1' }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

async function recordCase(testCase, info) {
  const port = await closedPort();
  const deadPort = await closedPort();
  const c = fillPlaceholders(testCase, { port, deadPort });
  const prefix = mkdtempSync(join(tmpdir(), 'phasekit-openresty-'));
  // Workers may run as another user (root starts them as nobody): they must reach the prefix.
  chmodSync(prefix, 0o755);
  const logFile = `${prefix}/error.log`;
  writeCaseFiles(c, prefix);
  writeFileSync(`${prefix}/nginx.conf`, nginxConf(c, { port, prefix, dir: SUITE_DIR, modules: info.modules, lualib: LUALIB }));
  let stderr = '';
  const child = spawn(NGINX, ['-p', prefix, '-c', `${prefix}/nginx.conf`], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr.on('data', (d) => (stderr += d));
  let exited = false;
  // 'close': the process has exited and its stderr is read to the end.
  const exit = new Promise((resolve) => child.on('close', () => { exited = true; resolve(); }));
  const result = {};
  try {
    // Up when the port accepts and the worker has started (init_worker ran or is running).
    let up = false;
    for (let i = 0; i < 250 && !exited; i++) {
      if (await canConnect(port)) {
        up = true;
        break;
      }
      await sleep(20);
    }
    if (!up) {
      const killer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exit;
      clearTimeout(killer);
      const text = stderr + readFrom(logFile, 0);
      result.startError = normalizeNginxLog(text, prefix).join('\n') || text.trim();
      return result;
    }
    for (let i = 0; i < 100 && !/start worker process/.test(readFrom(logFile, 0)); i++) await sleep(10);
    let offset = await logSettled(logFile, 60);
    // init_by_lua logs to stderr: nginx opens its error_log file after running it.
    if (c.log) result.startLog = normalizeNginxLog(stderr + readFrom(logFile, 0), prefix);
    result.requests = [];
    for (const req of c.requests) {
      const res = await sendRequest(port, req);
      const entry = { request: `${req.method ?? (req.raw !== undefined ? '(raw)' : 'GET')} ${req.path ?? ''}`.trim(), ...res };
      if (typeof entry.body === 'string') entry.body = stripMachinePaths(entry.body, prefix);
      const size = await logSettled(logFile);
      if (c.log) entry.log = normalizeNginxLog(readFrom(logFile, offset), prefix);
      offset = size;
      result.requests.push(entry);
    }
    return result;
  } finally {
    if (!exited) child.kill('SIGTERM');
    const killer = setTimeout(() => { if (!exited) child.kill('SIGKILL'); }, 3000);
    await exit;
    clearTimeout(killer);
    rmSync(prefix, { recursive: true, force: true });
  }
}

async function pool(items, n, fn) {
  const out = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  }));
  return out;
}

async function main() {
  const args = process.argv.slice(2);
  let grep;
  const g = args.indexOf('--grep');
  if (g !== -1) {
    grep = args[g + 1];
    args.splice(g, 2);
  }
  const all = listAreas();
  const areas = args.length > 0 ? args : all;
  for (const a of areas) if (!all.includes(a)) throw new Error(`no case file cases/${a}.mjs (areas: ${all.join(', ')})`);
  const info = discover();
  mkdirSync(RECORDINGS_DIR, { recursive: true });
  console.log(`recording with ${NGINX} (${info.version}), modules: ${info.modules.length > 0 ? info.modules.map((m) => m.split('/').pop()).join(', ') : 'built in'}`);
  for (const area of areas) {
    const cases = await loadArea(area);
    const file = `${RECORDINGS_DIR}/${area}.json`;
    const old = grep !== undefined && existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')).cases : {};
    const todo = cases.filter((c) => grep === undefined || c.name.includes(grep));
    const t0 = Date.now();
    const results = await pool(todo, PARALLEL, (c) => recordCase(c, info));
    const byName = new Map(todo.map((c, i) => [c.name, results[i]]));
    const out = {};
    for (const c of cases) {
      const r = byName.get(c.name) ?? old[c.name];
      if (r !== undefined) out[c.name] = r;
    }
    writeFileSync(file, JSON.stringify({ nginx: info.version, cases: out }, null, 2) + '\n');
    const failed = todo.filter((c) => byName.get(c.name)?.startError !== undefined);
    console.log(`${area}: ${todo.length} case(s) recorded in ${Date.now() - t0} ms → recordings/${area}.json`);
    for (const c of failed) console.log(`  nginx did not start for ${JSON.stringify(c.name)}: ${byName.get(c.name).startError.split('\n')[0]}`);
  }
}

await main();
