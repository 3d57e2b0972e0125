// The CLI on an OpenResty nginx.conf: `phasekit serve nginx.conf`, `phasekit check`, `phasekit run`,
// each spawned with node on the TypeScript sources.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Agent, request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { Output, printIgnored } from '../packages/phasekit/src/cli-output.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'packages/phasekit/bin/phasekit.mjs');
// tsx by URL: the CLI may run in a folder of its own (relative paths on its command line).
const tsx = pathToFileURL(createRequire(join(root, 'package.json')).resolve('tsx')).href;
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});

function start(args: string[], cwd = root): { child: ChildProcess; stdout: () => string; stderr: () => string } {
  const child = spawn(process.execPath, ['--conditions=source', '--import', tsx, bin, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  return { child, stdout: () => out, stderr: () => err };
}

/** Runs a command that ends: its exit code and output. */
async function run(args: string[], cwd = root): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const { child, stdout, stderr } = start(args, cwd);
  const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)));
  return { code, stdout: stdout(), stderr: stderr() };
}

/** Polls `check` every 20 ms, for at most 15 s. */
async function waitFor(check: () => boolean, what: () => string): Promise<void> {
  for (let i = 0; i < 750 && !check(); i++) await new Promise((r) => setTimeout(r, 20));
  if (!check()) throw new Error(`timed out: ${what()}`);
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((r) => (child.exitCode !== null ? r(child.exitCode) : child.on('exit', (code) => r(code))));
}

/** A port free now (bound on 127.0.0.1 port 0, then released). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createNetServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function confDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'phasekit-cli-nginx-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

const vhosts = (port: number) => `worker_processes 1;
events { worker_connections 64; }
http {
  lua_shared_dict dogs 1m;
  sendfile on;
  error_log logs/error.log warn;
  init_by_lua_block { ngx.shared.dogs:set("started", "yes") }
  server {
    listen 127.0.0.1:${port};
    server_name a.test;
    sendfile off;
    location / {
      content_by_lua_block {
        ngx.log(ngx.WARN, "served a")
        ngx.say("a ", ngx.var.server_name, " ", ngx.shared.dogs:get("started"), " }")
      }
    }
  }
  server {
    listen 127.0.0.1:${port};
    server_name b.test *.b.test;
    location / { return 200 "b $host\\n"; }
  }
}
`;

describe('phasekit serve nginx.conf', () => {
  it('listens where the conf says, serves its virtual hosts, prints a readable start-up, logs to error_log', async () => {
    const port = await freePort();
    const dir = confDir({ 'conf/nginx.conf': vhosts(port), 'logs/.keep': '' });
    const { child, stdout, stderr } = start(['serve', 'conf/nginx.conf', '-p', dir], dir);
    await waitFor(() => stdout().includes('SIGHUP reloads'), () => stdout() + stderr());
    const out = stdout();
    expect(out).toContain(`listening on http://127.0.0.1:${port}  servers: a.test, b.test, *.b.test`);
    expect(out).toContain('shared dicts: dogs 1m');
    expect(out).toMatch(/^workers: 1$/m);
    // sendfile is in the conf twice and listed once, with where it first is.
    expect(out.match(/^ {2}sendfile /gm)).toHaveLength(1);
    expect(out).toMatch(/ {2}sendfile +conf\/nginx\.conf:5 /);
    expect(out).toMatch(/ {2}worker_connections +conf\/nginx\.conf:2 /);
    // Not a terminal: no colors.
    expect(out).not.toContain('\x1b[');

    const a = await request(`http://127.0.0.1:${port}/`, { headers: { host: 'a.test' } });
    expect(await a.body.text()).toBe('a a.test yes }\n');
    const b = await request(`http://127.0.0.1:${port}/`, { headers: { host: 'x.b.test' } });
    expect(await b.body.text()).toBe('b x.b.test\n');
    expect(readFileSync(join(dir, 'logs/error.log'), 'utf8')).toMatch(/\[warn\] .*served a/);

    child.kill('SIGTERM');
    expect(await exited(child)).toBe(0);
  });

  it('--quiet prints nothing while serving', async () => {
    const port = await freePort();
    const dir = confDir({ 'nginx.conf': `events {}\nhttp { server { listen 127.0.0.1:${port}; location / { return 200 "quiet\\n"; } } }\n` });
    const { child, stdout, stderr } = start(['serve', join(dir, 'nginx.conf'), '--quiet']);
    let body = '';
    await waitFor(() => {
      request(`http://127.0.0.1:${port}/`).then(
        (r) => r.body.text().then((t) => (body = t)),
        () => undefined,
      );
      return body === 'quiet\n';
    }, stderr);
    child.kill('SIGTERM');
    expect(await exited(child)).toBe(0);
    expect(stdout()).toBe('');
    expect(stderr()).toBe('');
  });

  it('serves HTTPS for "listen ... ssl" with the certificate of the conf', async () => {
    const port = await freePort();
    const dir = confDir({});
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=tls.test',
    ], { stdio: 'ignore' });
    writeFileSync(join(dir, 'nginx.conf'), `events {}
http {
  server {
    listen 127.0.0.1:${port} ssl;
    ssl_certificate cert.pem;
    ssl_certificate_key key.pem;
    location / { content_by_lua_block { ngx.say("tls ", ngx.var.scheme, " ", ngx.var.https) } }
  }
}
`);
    const { child, stdout, stderr } = start(['serve', join(dir, 'nginx.conf')]);
    await waitFor(() => stdout().includes('SIGHUP reloads'), () => stdout() + stderr());
    expect(stdout()).toContain(`listening on https://127.0.0.1:${port}`);
    const dispatcher = new Agent({ connect: { rejectUnauthorized: false } });
    const res = await request(`https://127.0.0.1:${port}/`, { dispatcher });
    expect(await res.body.text()).toBe('tls https on\n');
    await dispatcher.close();
    child.kill('SIGTERM');
    expect(await exited(child)).toBe(0);
  });

  it('exits 1 naming file:line for a directive phasekit does not support', async () => {
    const dir = confDir({ 'nginx.conf': 'events {}\nhttp {\n  server {\n    location / {\n      gzip_bogus on;\n    }\n  }\n}\n' });
    const r = await run(['serve', join(dir, 'nginx.conf')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`unknown directive "gzip_bogus" in ${join(dir, 'nginx.conf')}:5`);
  });
});

describe('phasekit check', () => {
  it('prints servers, locations with their phases, upstreams, dicts and plugins; exit 0', async () => {
    const dir = confDir({
      'nginx.conf': `events {}
http {
  lua_shared_dict cache 10m;
  upstream backend { server 127.0.0.1:9 weight=2; server 127.0.0.1:10 backup; }
  server {
    listen 127.0.0.1:8181;
    server_name api.test;
    location /api { access_by_lua_block { ngx.var.x = 1 } proxy_pass http://backend; }
    location = /old { return 301 /new; }
    location /files { root site; try_files $uri =404; }
    location @fallback { internal; content_by_lua_block { ngx.say("x") } log_by_lua_block { } }
  }
}
`,
    });
    const r = await run(['check', join(dir, 'nginx.conf')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('syntax is ok');
    expect(r.stdout).toMatch(/^server 1 api\.test {2}listen 127\.0\.0\.1:8181$/m);
    expect(r.stdout).toMatch(/^ {2}location \/api +access, proxy_pass http:\/\/backend$/m);
    expect(r.stdout).toMatch(/^ {2}location = \/old +set\/rewrite rules \(1\), return 301$/m);
    expect(r.stdout).toMatch(/^ {2}location \/files +static site \(try_files\)$/m);
    expect(r.stdout).toMatch(/^ {2}location @fallback +internal, content, log$/m);
    expect(r.stdout).toContain('upstream backend: 2 server(s)');
    expect(r.stdout).toContain('shared dicts: cache 10m');
    expect(r.stdout).toContain('plugins: lua runtime, nginx modules, haproxy contexts');
    expect(r.stdout).toContain(`${join(dir, 'nginx.conf')}: test is successful`);
  });

  it('passes on the example application of docs/nginx-conf.md', async () => {
    const r = await run(['check', 'examples/nginx-conf/nginx.conf']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ {2}location = \/hello +content, error_page, access_log logs\/access.log$/m);
    expect(r.stdout).toMatch(/^ {2}location \/api\/ +set\/rewrite rules \(1\), access, proxy_pass http:\/\/backend, /m);
    expect(r.stdout).toMatch(/^ {2}worker_connections +examples\/nginx-conf\/nginx\.conf:4 +event loop$/m);
  });

  it('compiles the Lua: a syntax error fails the test, exit 1', async () => {
    const dir = confDir({ 'nginx.conf': 'events {}\nhttp { server { location / { content_by_lua_block { ngx.say( } } } }\n' });
    const r = await run(['check', join(dir, 'nginx.conf')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('unexpected symbol');
    expect(r.stderr).toContain('test failed');
  });

  it('reports a parse error with file:line, and --quiet prints only the verdict', async () => {
    const dir = confDir({ 'nginx.conf': 'http {\n  server {\n    location / {\n  }\n}\n', 'ok.json': '{"locations":[{"match":"/"}]}' });
    const bad = await run(['check', join(dir, 'nginx.conf')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`unexpected end of file, expecting "}" in ${join(dir, 'nginx.conf')}:6`);
    const ok = await run(['check', '--quiet', join(dir, 'ok.json')]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe(`${join(dir, 'ok.json')}: test is successful\n`);
  });
});

describe('phasekit run', () => {
  it('-e runs Lua with the ngx API and prints ngx.say / ngx.print to stdout', async () => {
    const r = await run(['run', '-e', 'ngx.say(ngx.md5("x")) ngx.print("a", {"b", 1}, true) ngx.say()']);
    expect(r).toEqual({ code: 0, stdout: '9dd4e461268c8034f5c8564e155c67a6\nab1true\n', stderr: '' });
  });

  it('runs a script file with arguments, -I for require and --shdict for ngx.shared', async () => {
    const dir = confDir({
      'lib/greet.lua': 'return { hi = function(who) return "hi " .. who end }\n',
      'main.lua': 'local g = require "greet"\nlocal d = ngx.shared.dogs\nd:set("n", 41)\nngx.say(g.hi(arg[1]), " ", d:incr("n", 1), " ", #arg, " ", arg[0])\n',
    });
    const r = await run(['run', '--shdict', 'dogs 1m', '-I', 'lib', 'main.lua', 'there', 'x'], dir);
    expect(r).toEqual({ code: 0, stdout: 'hi there 42 2 main.lua\n', stderr: '' });
  });

  it('an error prints ERROR: with a traceback to stderr and exits 1; ngx.exit ends the script', async () => {
    const bad = await run(['run', '-e', 'ngx.say("before") error("boom")']);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toBe('before\n');
    expect(bad.stderr).toMatch(/^ERROR: \(command line -e\):1: boom\nstack traceback:/);
    const exit = await run(['run', '-e', 'ngx.say(1) ngx.exit(0) ngx.say(2)']);
    expect(exit).toEqual({ code: 0, stdout: '1\n', stderr: '' });
  });

  it('bad usage is an error with the usage text', async () => {
    const r = await run(['run', '--shdict', 'dogs']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`bad --shdict "dogs": expected 'NAME SIZE'`);
    expect(r.stderr).toContain('usage: phasekit serve');
  });
});

describe('start-up output', () => {
  it('colors only when asked (a terminal); --quiet drops info lines', () => {
    const lines: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((s: string) => (lines.push(s), true)) as typeof process.stdout.write;
    try {
      const ignored = [{ name: 'sendfile', file: join(process.cwd(), 'nginx.conf'), line: 3, note: 'tuning' }];
      const color = new Output({ color: true });
      printIgnored(color, ignored);
      new Output({ color: false }).info(new Output({ color: false }).style('plain', 'green'));
      new Output({ quiet: true, color: true }).info('hidden');
    } finally {
      process.stdout.write = write;
    }
    expect(lines[0]).toBe('\x1b[33mignored directives (1), accepted without effect:\x1b[39m\n');
    expect(lines[1]).toBe('  sendfile                     \x1b[2mnginx.conf:3  tuning\x1b[22m\n');
    expect(lines.slice(2)).toEqual(['plain\n']);
  });
});
