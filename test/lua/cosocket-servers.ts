// Servers for the cosocket tests: redis-server and memcached on free ports, scripted Node TCP
// peers, and an engine served on node:http (upgrades included). Every start has its stop.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer as createHttpServer, type Server } from 'node:http';
import { connect, createServer, type Server as NetServer, type Socket } from 'node:net';
import { createEngine, createHandler, createUpgradeHandler, type EngineConfig, type EngineOptions, type LogEntry } from 'phasekit';

/** True when `bin` runs here. In CI (CI set) a missing server is a failure, not a skip. */
export function have(bin: string): boolean {
  const ok = spawnSync(bin, ['--version'], { stdio: 'ignore' }).status === 0 || spawnSync(bin, ['-V'], { stdio: 'ignore' }).status === 0;
  if (!ok && process.env.CI) throw new Error(`${bin} is not installed (.ci/run installs it)`);
  return ok;
}

/** A port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Resolves once `pred()` holds (polled), or fails after `ms`. */
export async function waitFor(pred: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error('waitFor: condition not met');
    await new Promise((r) => setTimeout(r, 5));
  }
}

export interface Daemon {
  port: number;
  stop(): Promise<void>;
}

async function daemon(bin: string, args: (port: number) => string[]): Promise<Daemon> {
  const port = await freePort();
  const child: ChildProcess = spawn(bin, args(port), { stdio: 'ignore' });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const end = Date.now() + 10_000;
  for (;;) {
    const up = await new Promise<boolean>((r) => {
      const c = connect(port, '127.0.0.1', () => {
        c.destroy();
        r(true);
      });
      c.on('error', () => r(false));
    });
    if (up) break;
    if (Date.now() > end || child.exitCode !== null) {
      child.kill();
      throw new Error(`${bin} did not start`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    port,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

export function startRedis(): Promise<Daemon> {
  return daemon('redis-server', (port) => ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
}

export function startMemcached(): Promise<Daemon> {
  // memcached refuses to run as root unless told which user to be.
  const asRoot = process.getuid?.() === 0 ? ['-u', 'root'] : [];
  return daemon('memcached', (port) => ['-l', '127.0.0.1', '-p', String(port), '-U', '0', ...asRoot]);
}

export interface Peer {
  port: number;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Connections open now. */
  readonly open: number;
  close(): Promise<void>;
}

/** A TCP server running `onConnection` for each client (connections are destroyed on close). */
export async function tcpPeer(onConnection: (socket: Socket) => void): Promise<Peer> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server: NetServer = createServer((s) => {
    accepted++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    onConnection(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as { port: number }).port,
    get accepted() {
      return accepted;
    },
    get open() {
      return sockets.size;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** An echo peer: every byte comes back. */
export function echoPeer(): Promise<Peer> {
  return tcpPeer((s) => s.pipe(s));
}

export interface Served {
  url: string;
  port: number;
  engine: Awaited<ReturnType<typeof createEngine>>;
  logs: LogEntry[];
  server: Server;
  close(): Promise<void>;
}

/** An engine (Lua runtime included) served on node:http at 127.0.0.1:0, upgrades included. */
export async function serve(config: EngineConfig, options: EngineOptions = {}): Promise<Served> {
  const logs: LogEntry[] = [];
  const engine = await createEngine(config, { logger: (e) => logs.push(e), ...options });
  const server = createHttpServer(createHandler(engine));
  server.on('upgrade', createUpgradeHandler(engine));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    engine,
    logs,
    server,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await engine.close();
    },
  };
}
