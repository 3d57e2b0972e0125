// `phasekit serve nginx.conf` with worker_processes: worker threads (Node >= 22.12, see node22.ts)
// sharing the conf's lua_shared_dict; and the fallback to one thread on Node 20 says why.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { reusePortSupported } from '../../packages/phasekit/src/workers.js';
import { exited, root, spawnNode22, watchOutput } from './node22.js';

const bin = join(root, 'packages/phasekit/bin/phasekit.mjs');
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function conf(port: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'phasekit-workers-conf-'));
  const file = join(dir, 'nginx.conf');
  writeFileSync(file, `worker_processes 2;
events { worker_connections 64; }
http {
  lua_shared_dict hits 1m;
  server {
    listen 127.0.0.1:${port};
    location / { content_by_lua_block { ngx.say(ngx.worker.count(), " ", (ngx.shared.hits:incr("n", 1, 0))) } }
  }
}
`);
  return file;
}

describe('worker_processes', { timeout: 90_000 }, () => {
  it('serves from that many worker threads, sharing the shared dicts', async () => {
    const port = await freePort();
    const child = spawnNode22([bin, 'serve', conf(port)]);
    children.push(child);
    const out = watchOutput(child);
    await out.waitFor(/SIGHUP reloads/);
    expect(out.text()).toContain(`listening on http://127.0.0.1:${port} (2 worker threads)`);
    expect(out.text()).toContain('workers: 2 threads');
    expect(out.text()).not.toContain('worker_processes');
    const answers: string[] = [];
    for (let i = 0; i < 6; i++) answers.push(await (await request(`http://127.0.0.1:${port}/`, { headers: { connection: 'close' } })).body.text());
    expect(answers.map((a) => a.trim().split(' ')[0])).toEqual(Array(6).fill('2'));
    // One counter for both workers.
    expect(answers.map((a) => Number(a.trim().split(' ')[1])).sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5, 6]);
    child.kill('SIGTERM');
    expect(await exited(child)).toBe(0);
  });

  it.skipIf(reusePortSupported())('on a Node.js without reusePort, one thread serves and the start-up says why', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', bin, 'serve', conf(port)], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    const out = watchOutput(child);
    await out.waitFor(/SIGHUP reloads/);
    expect(out.text()).toMatch(/^workers: 1 {2}\(worker_processes 2 not applied: worker threads need Node\.js >= 22\.12 on Linux, this is v20/m);
    expect(await (await request(`http://127.0.0.1:${port}/`)).body.text()).toBe('1 1\n');
    child.kill('SIGTERM');
    expect(await exited(child)).toBe(0);
  });
});
