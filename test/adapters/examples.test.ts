// Each examples/<framework>/server.mjs, run from sources as the README says: the app route, the Lua route, the Lua 403.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';

const root = fileURLToPath(new URL('../..', import.meta.url));
const children: ChildProcess[] = [];
afterEach(async () => {
  await Promise.all(
    children.splice(0).map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
        }),
    ),
  );
});

/** Starts an example with PORT=0 and resolves with the URL it prints. */
function start(example: string): Promise<string> {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', `examples/${example}/server.mjs`], {
    cwd: root,
    env: { ...process.env, PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve((m[1] as string).replace(/\/$/, ''));
    });
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    child.once('exit', (code) => reject(new Error(`${example} exited (${code}) before listening:\n${out}${err}`)));
  });
}

async function get(url: string) {
  const res = await request(url);
  return { status: res.statusCode, body: await res.body.text() };
}

describe('examples', () => {
  for (const example of ['node-http', 'express', 'fastify']) {
    it(`${example}: /app from the framework, /hello from Lua, ?deny=1 refused by Lua`, async () => {
      const base = await start(example);
      expect(base).toMatch(/^http:\/\/127\.0\.0\.1:[1-9]\d*$/);
      expect(await get(`${base}/app`)).toEqual({ status: 200, body: 'app' });
      expect(await get(`${base}/hello`)).toEqual({ status: 200, body: 'hello from lua' });
      const denied = await get(`${base}/hello?deny=1`);
      expect(denied.status).toBe(403);
      expect(denied.body).toContain('403 Forbidden');
      if (example === 'fastify') {
        // The per-route mode applies the same Lua rule to Fastify's own /app.
        expect((await get(`${base}/app?deny=1`)).status).toBe(403);
      }
    });
  }
});
