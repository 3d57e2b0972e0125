// `phasekit serve` against handlers that misbehave: a rejection nobody awaited is logged and the
// server lives; SIGTERM with a request that would sleep for an hour closes it after the shutdown
// timeout (nginx's worker_shutdown_timeout) and the process exits.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { request } from 'undici';
import { exited, serve, spawnCli } from './cli-process.js';


function configFile(name: string, text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'phasekit-cli-')), name);
  writeFileSync(file, text);
  return file;
}

/** A request that waits: resolves with what the client saw when the server closed the connection. */
function hangingRequest(url: string, path: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const sock = connect(Number(port), hostname, () => sock.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`));
    sock.on('data', (d) => chunks.push(d));
    sock.on('error', () => undefined);
    sock.on('close', () => resolve(Buffer.concat(chunks).toString()));
  });
}

describe('phasekit serve under faulty handlers', () => {
  it('a stray Promise.reject() in a handler is logged and the server keeps serving', async () => {
    const file = configFile('config.mjs', `export default { locations: [
      { match: '= /stray', content: (ngx) => { Promise.reject(new Error('nobody awaits me')); ngx.say('answered'); } },
      { match: '/', content: (ngx) => ngx.say('alive') },
    ] };\n`);
    const { child, url, output } = await serve([file, '--listen', '127.0.0.1:0']);
    expect(await (await request(`${url}/stray`)).body.text()).toBe('answered\n');
    for (let i = 0; i < 100 && !output().includes('unhandled promise rejection'); i++) await new Promise((r) => setTimeout(r, 20));
    expect(output()).toContain('[error]');
    expect(output()).toContain('unhandled promise rejection (not tied to a request, nothing failed for it): nobody awaits me');
    expect(await (await request(`${url}/`)).body.text()).toBe('alive\n');
    expect(child.exitCode).toBe(null);
    child.kill('SIGTERM');
    expect(await exited(child)).toBe(0);
  });

  it('SIGTERM while a request sleeps for an hour: its connection closes after --shutdown-timeout and the process exits', async () => {
    const file = configFile('config.json', JSON.stringify({ errorLogLevel: 'warn', locations: [{ match: '/', content: { lua: 'ngx.sleep(3600) ngx.say("never")' } }] }));
    const { child, url, output } = await serve([file, '--listen', '127.0.0.1:0', '--shutdown-timeout', '0.3']);
    const sleeping = hangingRequest(url, '/');
    await new Promise((r) => setTimeout(r, 100));
    const started = Date.now();
    child.kill('SIGTERM');
    expect(await sleeping).toBe('');
    expect(await exited(child)).toBe(0);
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(250);
    expect(took).toBeLessThan(5000);
    expect(output()).toContain('SIGTERM: closing (in-flight requests finish, at most 0.3 s)');
    expect(output()).toContain('still running after the shutdown timeout (300 ms): connections closed');
  });

  it('the config key shutdownTimeout does the same without the flag', async () => {
    const file = configFile('config.json', JSON.stringify({ shutdownTimeout: 0.2, locations: [{ match: '/', content: { lua: 'ngx.sleep(3600)' } }] }));
    const { child, url } = await serve([file, '--listen', '127.0.0.1:0']);
    const sleeping = hangingRequest(url, '/');
    await new Promise((r) => setTimeout(r, 100));
    child.kill('SIGTERM');
    expect(await sleeping).toBe('');
    expect(await exited(child)).toBe(0);
  });

  it('a bad --shutdown-timeout is a usage error', async () => {
    const file = configFile('config.json', JSON.stringify({ locations: [] }));
    const child = spawnCli(['serve', file, '--shutdown-timeout=soon']);
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    expect(await exited(child)).not.toBe(0);
    expect(err).toContain('bad --shutdown-timeout "soon"');
  });
});
