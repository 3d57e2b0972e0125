// A node:http server around an engine, with graceful close: what `phasekit serve` runs.

import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Engine } from '@phasekit/core';
import { createHandler, createUpgradeHandler } from '@phasekit/node-http';

export interface ServeOptions {
  host?: string;
  port?: number;
}

export interface PhasekitServer {
  readonly server: Server;
  readonly url: string;
  /** Stops accepting, lets in-flight requests finish, then closes the engine. */
  close(): Promise<void>;
}

export async function createServer(engine: Engine, options: ServeOptions = {}): Promise<PhasekitServer> {
  const server = createHttpServer(createHandler(engine));
  // Upgrade requests (WebSocket handshakes) reach the engine too: ngx.req.socket(true) takes the connection.
  server.on('upgrade', createUpgradeHandler(engine));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8080, options.host ?? '127.0.0.1', () => {
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
    close() {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        await engine.close();
        await closed;
      })();
      return closing;
    },
  };
}
