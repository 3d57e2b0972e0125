// A node:http (or node:https) server around an engine, with graceful close: what `phasekit serve` runs.

import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createSecureContext, type SecureContext } from 'node:tls';
import type { Engine } from '@phasekit/core';
import { createHandler, createSNICallback, createUpgradeHandler } from '@phasekit/node-http';

/** A certificate for TLS, and the server names (nginx's server_name) it answers for. */
export interface ServeCertificate {
  /** PEM text. */
  readonly cert: string;
  readonly key: string;
  /** Names it is chosen for by SNI (`*.example.com` and `www.example.*` wildcards too); the first certificate is the default. */
  readonly names?: readonly string[];
}

export interface ServeOptions {
  host?: string;
  port?: number;
  /** Serve HTTPS with these certificates (the first for a handshake no name matches). */
  tls?: readonly ServeCertificate[];
  /**
   * Listen with SO_REUSEPORT, so several servers (worker threads) share the port and the kernel
   * spreads connections across them. Node.js >= 22.12 on Linux; see createWorkers.
   */
  reusePort?: boolean;
}

export interface PhasekitServer {
  readonly server: Server;
  readonly url: string;
  /** Stops accepting, lets in-flight requests finish (at most `timeout` ms, if given), then closes the engine. */
  close(options?: { timeout?: number }): Promise<void>;
}

/** Reads PEM files for `ServeOptions.tls`. */
export function readCertificate(certFile: string, keyFile: string, names: readonly string[] = []): ServeCertificate {
  return { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8'), names };
}

function nameMatches(pattern: string, name: string): boolean {
  const p = pattern.toLowerCase();
  if (p.startsWith('*.')) return name.endsWith(p.slice(1));
  if (p.startsWith('.')) return name === p.slice(1) || name.endsWith(p);
  if (p.endsWith('.*')) return name.startsWith(p.slice(0, -1));
  if (p.startsWith('~')) return new RegExp(p.slice(1), 'i').test(name);
  return p === name;
}

/** SNI: the engine's sslCertificate handler when it has one, else the certificate whose names match. */
function sniCallback(engine: Engine, certs: readonly ServeCertificate[]) {
  if (engine.config.sslCertificate !== undefined) return createSNICallback(engine);
  const contexts = new Map<ServeCertificate, SecureContext>();
  return (servername: string, cb: (err: Error | null, ctx?: SecureContext) => void) => {
    const name = servername.toLowerCase();
    const chosen = certs.find((c) => (c.names ?? []).some((n) => nameMatches(n, name))) ?? certs[0];
    if (chosen === undefined) return cb(null);
    let ctx = contexts.get(chosen);
    if (ctx === undefined) {
      ctx = createSecureContext({ cert: chosen.cert, key: chosen.key });
      contexts.set(chosen, ctx);
    }
    cb(null, ctx);
  };
}

export async function createServer(engine: Engine, options: ServeOptions = {}): Promise<PhasekitServer> {
  const handler = createHandler(engine);
  const tls = options.tls;
  const first = tls?.[0];
  const server: Server =
    first === undefined ? createHttpServer(handler) : (createHttpsServer({ cert: first.cert, key: first.key, SNICallback: sniCallback(engine, tls ?? []) }, handler) as unknown as Server);
  // Upgrade requests (WebSocket handshakes) reach the engine too: ngx.req.socket(true) takes the connection.
  server.on('upgrade', createUpgradeHandler(engine));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // `reusePort` is a Node.js 22.12 listen option (@types/node 20 does not know it yet).
    const listen = { port: options.port ?? 8080, host: options.host ?? '127.0.0.1', ...(options.reusePort === true ? { reusePort: true } : {}) };
    server.listen(listen, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  let closing: Promise<void> | undefined;
  return {
    server,
    url: `${first === undefined ? 'http' : 'https'}://${host}:${addr.port}`,
    close(closeOptions = {}) {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        await engine.close(closeOptions);
        await closed;
      })();
      return closing;
    },
  };
}
