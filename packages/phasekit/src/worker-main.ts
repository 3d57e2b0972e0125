// A worker thread started by createWorkers: its own engine (and Lua VM) over the shared dicts'
// regions, listening with reusePort on the port every worker shares.

import { readlinkSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { logUnhandledRejections, SharedDict, type WorkerInfo } from '@phasekit/core';
import { readConfig, readConfigFile } from './config-file.js';
import { createEngine, type EngineConfig } from './engine.js';
import { createServer } from './serve.js';
import type { ConfigSource, FromWorker, ToWorker, WorkerBoot } from './worker-protocol.js';

const boot = workerData as WorkerBoot;
const port = parentPort ?? notInAWorker();

function notInAWorker(): never {
  throw new Error('worker-main runs in a worker thread (see createWorkers)');
}

/** This thread's OS id (Linux: /proc/thread-self is "<pid>/task/<tid>"), what ps -L lists. */
function threadOsId(): number {
  try {
    return Number(readlinkSync('/proc/thread-self').split('/').pop());
  } catch {
    return process.pid;
  }
}

const load = (source: ConfigSource, fresh: boolean): Promise<EngineConfig> =>
  'file' in source ? readConfig(source.file, fresh) : Promise.resolve(source.config);

const post = (msg: FromWorker) => port.postMessage(msg);

async function main(): Promise<void> {
  const pid = threadOsId();
  Atomics.store(boot.pidTable, boot.id, pid);
  const worker: WorkerInfo = { id: boot.id, count: boot.count, pid, pids: () => Array.from(boot.pidTable) };
  const sharedDicts = Object.fromEntries(boot.regions.map((r) => [r.name, SharedDict.attach(r)]));
  // A module's TypeScript plugins (its `plugins` export) are read here, in the thread that runs them.
  const first = 'file' in boot.source ? await readConfigFile(boot.source.file) : { config: boot.source.config, plugins: [] };
  const engine = await createEngine(first.config, { sharedDicts, worker, plugins: first.plugins });
  logUnhandledRejections(engine);
  const server = await createServer(engine, { host: boot.host, port: boot.port, reusePort: true });
  port.on('message', (msg: ToWorker) => {
    if (msg.type === 'reload') {
      load(msg.source, true)
        .then((config) => engine.reload(config))
        .then(
          () => post({ type: 'reloaded', seq: msg.seq, error: undefined }),
          (err: unknown) => post({ type: 'reloaded', seq: msg.seq, error: (err as Error).message }),
        );
    } else if (msg.type === 'close') {
      // Then the thread ends, whatever else (a client connection, a stray timer) it still holds.
      void server.close(msg.timeout === undefined ? {} : { timeout: msg.timeout }).finally(() => process.exit(0));
    }
  });
  post({ type: 'ready', port: Number(new URL(server.url).port) });
}

/** An error's message with its causes' ("init handler failed: init:1: init failed"). */
function describe(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err; e instanceof Error && parts.length < 4; e = e.cause) parts.push(e.message);
  return parts.length === 0 ? String(err) : parts.join(': ');
}

main().catch((err: unknown) => {
  post({ type: 'failed', message: describe(err) });
  // Let the message go out first; the thread then ends with the error.
  setImmediate(() => {
    throw err;
  });
});
