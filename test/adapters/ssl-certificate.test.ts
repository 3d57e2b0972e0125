// The ssl_certificate phase: a Lua or TypeScript handler picks the certificate per server name (SNI).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type PeerCertificate } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { createEngine, createHandler, createSNICallback, type EngineConfig, type Engine } from 'phasekit';

/** A self-signed certificate for `name`, made with Debian's openssl (a test requirement). */
function selfSigned(name: string): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'phasekit-sni-'));
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1',
      '-subj', `/CN=${name}`, '-addext', `subjectAltName=DNS:${name}`,
    ], { stdio: 'ignore' });
    return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const certs = { 'a.test': selfSigned('a.test'), 'b.test': selfSigned('b.test'), default: selfSigned('default.test') };
const servers: Server[] = [];
const engines: Engine[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
  await Promise.all(engines.splice(0).map((e) => e.close()));
});

async function serve(config: EngineConfig): Promise<number> {
  const engine = await createEngine(config, { logger: () => undefined });
  engines.push(engine);
  const server = createServer({ ...certs.default, SNICallback: createSNICallback(engine) }, createHandler(engine));
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

/** The CN of the certificate the server presents for `servername`. */
function presented(port: number, servername: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false }, () => {
      const cert: PeerCertificate = sock.getPeerCertificate();
      sock.end();
      resolve(String(cert.subject.CN));
    });
    sock.on('error', reject);
  });
}

const locations = [{ match: '/', content: { lua: 'ngx.say("ok")' } }];

describe('ssl_certificate phase', () => {
  it('a Lua handler (require "ngx.ssl") gives two server names two certificates, others the default', async () => {
    const port = await serve({
      sslCertificate: {
        lua: `
          local ssl = require "ngx.ssl"
          local certs = { ["a.test"] = { ${JSON.stringify(certs['a.test'].cert)}, ${JSON.stringify(certs['a.test'].key)} },
                          ["b.test"] = { ${JSON.stringify(certs['b.test'].cert)}, ${JSON.stringify(certs['b.test'].key)} } }
          local pair = certs[ssl.server_name()]
          if not pair then return end
          ssl.clear_certs()
          assert(ssl.set_der_cert(ssl.cert_pem_to_der(pair[1])))
          assert(ssl.set_der_priv_key(ssl.priv_key_pem_to_der(pair[2])))`,
      },
      locations,
    });
    expect(await presented(port, 'a.test')).toBe('a.test');
    expect(await presented(port, 'b.test')).toBe('b.test');
    expect(await presented(port, 'other.test')).toBe('default.test');
  });

  it('a TypeScript handler does the same through ngx.ssl; ngx.ssl elsewhere is refused', async () => {
    let refused = '';
    const port = await serve({
      sslCertificate: (ngx) => {
        const pair = certs[ngx.ssl.serverName() as 'a.test'];
        if (pair) {
          ngx.ssl.setCert(pair.cert);
          ngx.ssl.setPrivKey(pair.key);
        }
      },
      locations: [{ match: '/', content: (ngx) => { try { ngx.ssl.serverName(); } catch (err) { refused = (err as Error).message; } ngx.say('x'); } }],
    });
    expect(await presented(port, 'a.test')).toBe('a.test');
    expect(await presented(port, 'zzz.test')).toBe('default.test');
    const { request, Agent } = await import('undici');
    const res = await request(`https://127.0.0.1:${port}/`, { dispatcher: new Agent({ connect: { rejectUnauthorized: false } }) });
    expect(await res.body.text()).toBe('x\n');
    expect(refused).toBe('API disabled in the context of content_by_lua*');
  });

  it('a failing handler refuses the handshake', async () => {
    const port = await serve({ sslCertificate: () => { throw new Error('no certificate for you'); }, locations });
    await expect(presented(port, 'a.test')).rejects.toThrow();
  });
});
