// sslhandshake against a node:tls server: SNI, verification (trusted CA, self-signed failure, host
// mismatch), session objects, pooled TLS connections, and what a failed handshake leaves.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, inject, type Engine } from 'phasekit';

const P = 'local function p(...) local n = select("#", ...) local t = {...} for i = 1, n do t[i] = tostring(t[i]) end ngx.say(table.concat(t, " | ")) end\n';

/** A self-signed certificate for `names` (SANs), made with openssl. */
function selfSigned(dir: string, names: string[]): { key: string; cert: string; certFile: string } {
  const key = join(dir, 'key.pem');
  const certFile = join(dir, 'cert.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', key, '-out', certFile, '-days', '1', '-subj', `/CN=${names[0]}`,
    '-addext', `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}`,
  ], { stdio: 'ignore' });
  return { key: readFileSync(key, 'utf8'), cert: readFileSync(certFile, 'utf8'), certFile };
}

describe('sslhandshake', () => {
  let dir: string;
  let server: Server;
  let port: number;
  let certFile: string;
  let engine: Engine;
  let trusting: Engine;
  const accepted: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'phasekit-cosocket-tls-'));
    const pair = selfSigned(dir, ['test.local', 'other.local']);
    certFile = pair.certFile;
    server = createServer({ key: pair.key, cert: pair.cert }, (c: TLSSocket) => {
      accepted.push(String(c.servername));
      c.write(`sni=${c.servername}\n`);
      c.on('data', (d) => c.write(d));
      c.on('error', () => undefined);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
    const location = (lua: string) => ({ locations: [{ match: '/', content: { lua: P + lua.replaceAll('$PORT', String(port)) } }] });
    const lua = `
      local s = ngx.socket.tcp()
      s:connect("127.0.0.1", $PORT, { pool = ngx.var.arg_name .. "/" .. (ngx.var.arg_verify or "0") })
      local reused = s:getreusedtimes()
      local sess, err = s:sslhandshake(nil, ngx.var.arg_name, ngx.var.arg_verify == "1")
      if not sess then p("handshake", sess, err) p("after", s:send("x")) return end
      p("handshake", tostring(sess):match("^ssl session") or tostring(sess))
      if reused == 0 then p(s:receive()) else p("reused", reused) end
      s:send({ "echo ", "over tls\\n" })
      p(s:receive())
      p("again", s:sslhandshake(false, ngx.var.arg_name, false))
      p(s:setkeepalive())`;
    engine = await createEngine(location(lua), { logger: () => undefined });
    writeFileSync(join(dir, 'ca.pem'), readFileSync(certFile));
    trusting = await createEngine({ ...location(lua), cosocket: { sslTrustedCertificate: join(dir, 'ca.pem') } }, { logger: () => undefined });
  });

  afterAll(async () => {
    await engine.close();
    await trusting.close();
    await new Promise<void>((r) => server.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends SNI, speaks TLS, and a pooled TLS connection needs no second handshake', async () => {
    expect((await inject(engine, '/?name=test.local')).body).toBe([
      'handshake | ssl session',
      'sni=test.local',
      'echo over tls',
      'again | true',
      '1',
      '',
    ].join('\n'));
    // The pooled connection is already TLS: the handshake answers at once, no new connection.
    const again = (await inject(engine, '/?name=test.local')).body;
    expect(again.split('\n').slice(0, 3)).toEqual(['handshake | ssl session', 'reused | 1', 'echo over tls']);
    expect(accepted).toEqual(['test.local']);
  });

  it('verification fails for a self-signed certificate: "18: self-signed certificate", the socket is closed', async () => {
    const logs: string[] = [];
    const e = await createEngine({ locations: [{ match: '/', content: { lua: P + `
      local s = ngx.socket.tcp()
      s:connect("127.0.0.1", ${port})
      p(s:sslhandshake(nil, "other.local", true))
      p(s:send("x"))` } }] }, { logger: (x) => logs.push(x.message) });
    expect((await inject(e, '/')).body).toBe('nil | 18: self-signed certificate\nnil | closed\n');
    expect(logs).toContain('lua ssl certificate verify error: (18: self-signed certificate)');
    await e.close();
  });

  it('with cosocket.sslTrustedCertificate the chain verifies; a name the certificate lacks does not', async () => {
    const ok = (await inject(trusting, '/?name=other.local&verify=1')).body;
    expect(ok.split('\n').slice(0, 2)).toEqual(['handshake | ssl session', 'sni=other.local']);
    expect((await inject(trusting, '/?name=wrong.local&verify=1')).body).toBe('handshake | nil | certificate host mismatch\nafter | nil | closed\n');
  });

  it('an unreadable cosocket.sslTrustedCertificate stops the engine from starting', async () => {
    await expect(createEngine({ cosocket: { sslTrustedCertificate: join(dir, 'missing.pem') }, locations: [] }, { logger: () => undefined }))
      .rejects.toMatchObject({ code: 'PHASEKIT_ERR_CONFIG', issues: [{ path: 'cosocket.sslTrustedCertificate' }] });
  });

  it('a handshake on an unconnected socket raises; too many arguments raise', async () => {
    const e = await createEngine({ locations: [{ match: '/', content: { lua: P + `
      local s = ngx.socket.tcp()
      p(pcall(s.sslhandshake, s))
      s:connect("127.0.0.1", ${port})
      p(pcall(s.sslhandshake, s, nil, nil, nil, nil, nil))
      s:close()
      p(s:sslhandshake())` } }] }, { logger: () => undefined });
    expect((await inject(e, '/')).body).toBe([
      'false | socket is never created nor connected',
      'false | ngx.socket sslhandshake: expecting 1 ~ 5 arguments (including the object), but seen 6',
      'nil | closed',
      '',
    ].join('\n'));
    await e.close();
  });
});
