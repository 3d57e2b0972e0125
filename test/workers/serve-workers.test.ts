// `phasekit serve --workers N`: N worker threads on one port sharing the shared dicts (run under
// Node >= 22.12, see node22.ts), reload on SIGHUP, graceful close, a crashed worker replaced.
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Pool, request } from 'undici';
import { exited, root, spawnNode22, watchOutput } from './node22.js';

const bin = join(root, 'packages/phasekit/bin/phasekit.mjs');
const app = join(root, 'test/workers/fixtures/app.mjs');
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});

async function serve(workers: number) {
  const child = spawnNode22([bin, 'serve', app, '--listen', '127.0.0.1:0', '--workers', String(workers)]);
  children.push(child);
  const out = watchOutput(child);
  const [, url] = await out.waitFor(/listening on (http:\/\/\S+) \((\d+) worker threads\)/);
  return { child, out, url: url as string };
}

async function state(url: string) {
  const res = await request(`${url}/state`, { headers: { connection: 'close' } });
  return JSON.parse(await res.body.text()) as { id: number; count: number; pids: number[]; total: number; slow: number; inits: number; seeds: number; workers: Record<string, number> };
}

// Starting worker threads from TypeScript sources takes seconds on a busy 2-core machine.
describe('phasekit serve --workers', { timeout: 90_000 }, () => {
  it('N workers incrementing one counter from many connections end at the exact total; SIGHUP reloads all; SIGTERM drains all', async () => {
    const { child, out, url } = await serve(4);
    const pool = new Pool(url, { connections: 40 });
    const seen = new Set<string>();
    const total = 2000;
    await Promise.all(
      Array.from({ length: total }, async (_, i) => {
        const res = await pool.request({ path: i % 2 === 0 ? '/incr' : '/incr-ts', method: 'GET' });
        seen.add((await res.body.text()).split(' ')[0] as string);
      }),
    );
    await pool.close();
    const s = await state(url);
    expect(s.total).toBe(total);
    expect(seen.size).toBeGreaterThan(1); // the kernel spread the connections over several workers
    expect(s.count).toBe(4);
    // init ran in each worker, and the add() flag let exactly one of them seed.
    expect(s.inits).toBe(4);
    expect(s.seeds).toBe(1);
    // initWorker ran per worker, each with its own pid; pids() lists them in id order.
    expect(new Set(s.pids).size).toBe(4);
    expect(Object.values(s.workers)).toEqual(s.pids);

    child.kill('SIGHUP');
    await out.waitFor(/SIGHUP: reloaded/);
    const after = await state(url);
    expect(after.inits).toBe(8);
    expect(after.seeds).toBe(1);
    expect(after.total).toBe(total);

    // Requests in flight on every worker finish; then the process exits 0. (In flight: in a
    // handler. A connection still in a worker's accept queue when it stops listening is reset.)
    const slow = Array.from({ length: 8 }, () => request(`${url}/slow`, { headers: { connection: 'close' } }).then((r) => r.body.text()));
    for (let i = 0; i < 200 && (await state(url)).slow < 8; i++) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGTERM');
    expect((await Promise.all(slow)).every((t) => t.startsWith('done '))).toBe(true);
    expect(await exited(child)).toBe(0);
  });

  it('a worker that crashes mid-request is logged and replaced; the others keep serving', async () => {
    const { child, out, url } = await serve(2);
    const before = await state(url);
    await expect(request(`${url}/crash`, { headers: { connection: 'close' } }).then((r) => r.body.text())).rejects.toThrow();
    const [, id] = await out.waitFor(/worker (\d) \(pid \d+\) exited with code 1: .*boom: this worker crashes on purpose/s);
    await out.waitFor(new RegExp(`worker ${id} replaced \\(pid (\\d+)\\)`));
    // Every request after the crash is served, and the dict kept its data.
    for (let i = 0; i < 50; i++) expect((await request(`${url}/incr`, { headers: { connection: 'close' } })).statusCode).toBe(200);
    const after = await state(url);
    expect(after.total).toBe(before.total + 50);
    expect(after.pids).toHaveLength(2);
    expect(after.pids).not.toEqual(before.pids);
    expect(after.seeds).toBe(1);
    child.kill('SIGTERM');
    expect(await exited(child)).toBe(0);
  });
});
