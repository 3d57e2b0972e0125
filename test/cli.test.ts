// `phasekit serve` over a real socket: a .mjs config, --listen, graceful SIGTERM.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { request } from 'undici';
import { exited, serve, spawnCli } from './cli-process.js';

/** Polls `check` every 20 ms, for at most 10 s. */
async function waitFor(check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 20));
  expect(check()).toBe(true);
}


describe('phasekit serve', () => {
  it('serves a .mjs config with function handlers and finishes in-flight requests on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'phasekit-cli-'));
    const file = join(dir, 'config.mjs');
    writeFileSync(file, `export default {
  locations: [
    { match: '/', content: (ngx) => ngx.say('hello from ', ngx.var.uri) },
    { match: '= /slow', content: async (ngx) => { await new Promise((r) => setTimeout(r, 300)); ngx.say('done'); } },
  ],
};\n`);
    const { child, url } = await serve([file, '--listen', '127.0.0.1:0']);
    const res = await request(`${url}/x`);
    expect(await res.body.text()).toBe('hello from /x\n');

    const slow = request(`${url}/slow`).then((r) => r.body.text());
    await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGTERM');
    expect(await slow).toBe('done\n');
    expect(await exited(child)).toBe(0);
  });

  it('serves a JSON config', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'phasekit-cli-'));
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({ locations: [{ match: '/', internal: true }] }));
    const { child, url } = await serve([file, '--listen', '127.0.0.1:0']);
    expect((await request(`${url}/`)).statusCode).toBe(404);
    child.kill('SIGTERM');
    expect(await exited(child)).toBe(0);
  });

  it('reloads on SIGHUP: the new config is served, shared dicts keep their data', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'phasekit-cli-'));
    const file = join(dir, 'config.json');
    const config = (word: string) => JSON.stringify({
      sharedDicts: { d: '1m' },
      init: { lua: 'ngx.shared.d:incr("inits", 1, 0)' },
      locations: [{ match: '/', content: { lua: `ngx.say("${word} ", ngx.shared.d:get("inits"))` } }],
    });
    writeFileSync(file, config('one'));
    const { child, url, output } = await serve([file, '--listen', '127.0.0.1:0']);
    expect(await (await request(url)).body.text()).toBe('one 1\n');
    writeFileSync(file, config('two'));
    child.kill('SIGHUP');
    await waitFor(() => output().includes('SIGHUP: reloaded'));
    expect(await (await request(url)).body.text()).toBe('two 2\n');
    child.kill('SIGTERM');
    expect(await exited(child)).toBe(0);
  });

  it('--watch reloads when a Lua file beside the config changes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'phasekit-cli-'));
    writeFileSync(join(dir, 'content.lua'), 'ngx.say("before")\n');
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({ locations: [{ match: '/', content: { luaFile: 'content.lua' } }] }));
    const { child, url, output } = await serve([file, '--listen', '127.0.0.1:0', '--watch']);
    expect(await (await request(url)).body.text()).toBe('before\n');
    writeFileSync(join(dir, 'content.lua'), 'ngx.say("after")\n');
    await waitFor(() => output().includes('file change: reloaded'));
    expect(await (await request(url)).body.text()).toBe('after\n');
    child.kill('SIGTERM');
    expect(await exited(child)).toBe(0);
  });

  it('exits non-zero with the path of a bad config', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'phasekit-cli-'));
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ locations: [{ match: 'nope' }] }));
    const child = spawnCli(['serve', file]);
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    expect(await exited(child)).toBe(1);
    expect(err).toContain('locations[0].match');
  });
});

describe('phasekit plugins', () => {
  /** Runs `phasekit plugins <file>` from sources: its exit code, stdout and stderr. */
  function plugins(file: string): Promise<{ code: number | null; out: string; err: string }> {
    const child = spawnCli(['plugins', file]);
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    return exited(child).then((code) => ({ code, out, err }));
  }

  it('prints the resolved order per location, with the TypeScript plugins a .mjs config exports', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'phasekit-cli-'));
    const file = join(dir, 'config.mjs');
    writeFileSync(file, `import { definePlugin } from 'phasekit';
export const plugins = [definePlugin({ name: 'audit', priority: 1300, after: ['jwt'], access() {} })];
export default {
  sharedDicts: { rate_limiting_counters: '1m' },
  plugins: [{ name: 'correlation-id' }],
  locations: [
    { match: '/api/', plugins: [{ name: 'rate-limiting', config: { minute: 5 } }, { name: 'audit' }, { name: 'jwt' }, { name: 'key-auth' }], content: (ngx) => ngx.say('x') },
    { match: '/', content: (ngx) => ngx.say('y') },
  ],
};\n`);
    const { code, out } = await plugins(file);
    expect(code).toBe(0);
    expect(out).toBe(`locations[0] /api/
  1. correlation-id   100001  built-in
  2. jwt                1450  built-in
  3. audit              1300  typescript
  4. key-auth           1250  built-in
  5. rate-limiting       910  built-in
locations[1] /
  1. correlation-id   100001  built-in
`);
  });

  it('exits 1 naming the cycle of a config whose constraints cannot be met', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'phasekit-cli-'));
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({ locations: [{ match: '/', plugins: [{ name: 'cors', after: ['key-auth'] }, { name: 'key-auth', after: ['cors'] }] }] }));
    const { code, err } = await plugins(file);
    expect(code).toBe(1);
    expect(err).toContain('locations[0]: the plugins\' before/after constraints form a cycle: "cors" runs before "key-auth" runs before "cors"');
  });
});
