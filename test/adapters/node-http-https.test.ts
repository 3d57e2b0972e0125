// createHandler on https.createServer: engine locations over TLS with a certificate made for the test, the app beside them.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent, request } from 'undici';
import { createEngine, createHandler, type Engine } from 'phasekit';

/** A self-signed certificate for 127.0.0.1 and localhost, made with Debian's openssl. */
function selfSigned(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'phasekit-tls-'));
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1',
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ], { stdio: 'ignore' });
    return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('node:http adapter over https', () => {
  let engine: Engine;
  let server: Server;
  let agent: Agent;
  let base: string;

  beforeAll(async () => {
    const { key, cert } = selfSigned();
    engine = await createEngine(
      {
        locations: [
          {
            match: '= /secure',
            access: { lua: 'if ngx.var.arg_deny == "1" then return ngx.exit(403) end' },
            content: { lua: 'ngx.say(ngx.var.scheme, " ", ngx.var.https, " ", ngx.var.server_port)' },
          },
        ],
      },
      { logger: () => undefined },
    );
    const phasekit = createHandler(engine);
    server = createServer({ key, cert }, (req, res) => {
      phasekit(req, res, () => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(`app ${req.url ?? ''}`);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // The client trusts exactly this certificate: the handshake is verified, not skipped.
    agent = new Agent({ connect: { ca: cert } });
  });

  afterAll(async () => {
    await agent?.close();
    await new Promise((r) => server?.close(r));
    await engine?.close();
  });

  it('serves an engine location over TLS, with $scheme, $https and $server_port set', async () => {
    const res = await request(`${base}/secure`, { dispatcher: agent });
    expect(res.statusCode).toBe(200);
    expect(await res.body.text()).toBe(`https on ${new URL(base).port}\n`);
  });

  it('runs the access phase over TLS', async () => {
    const res = await request(`${base}/secure?deny=1`, { dispatcher: agent });
    expect(res.statusCode).toBe(403);
    await res.body.dump();
  });

  it('falls through to the app for paths no location covers', async () => {
    const res = await request(`${base}/other`, { dispatcher: agent });
    expect(await res.body.text()).toBe('app /other');
  });
});
