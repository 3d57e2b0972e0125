// A node:http server around an engine, with graceful close: what `phasekit serve` runs.

import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Engine } from '@phasekit/core';
import { createHandler, createUpgradeHandler } from '@phasekit/node-http';

export interface ServeOptions {
  host?: string;
  port?: number;
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

export async function createServer(engine: Engine, options: ServeOptions = {}): Promise<PhasekitServer> {
  const server = createHttpServer(createHandler(engine));
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
    url: `http://${host}:${addr.port}`,
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
