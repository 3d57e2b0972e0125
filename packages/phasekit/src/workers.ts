// createWorkers: N worker threads, each with its own engine and Lua VM, all accepting on one port
// (SO_REUSEPORT), sharing the config's shared dicts through SharedArrayBuffer regions.

import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { PhasekitError, SharedDict, type SharedDictRegion } from '@phasekit/core';
import { readConfig } from './config-file.js';
import type { EngineConfig } from './engine.js';
import type { FromWorker, ToWorker, WorkerBoot } from './worker-protocol.js';

export interface WorkersOptions {
  /** How many worker threads: a number, or "auto" (one per CPU, `os.availableParallelism()`). Default "auto". */
  workers?: number | 'auto';
  /** Where to listen (default 127.0.0.1:8080); port 0 picks a free port, shared by every worker. */
  host?: string;
  port?: number;
  /** Lines about workers (started, crashed, replaced); default: stderr. */
  log?: (message: string) => void;
}

export interface PhasekitWorkers {
  readonly url: string;
  readonly port: number;
  /** Number of workers. */
  readonly count: number;
  /** Each worker's pid (its OS thread id), in worker id order. */
  pids(): number[];
  /** Reloads every worker: the config file read again (or `config`), init and initWorker run again, shared dicts kept. */
  reload(config?: EngineConfig): Promise<void>;
  /** Every worker stops accepting, finishes its requests in flight (at most `timeout` ms, if given), closes its engine, and exits. */
  close(options?: { timeout?: number }): Promise<void>;
}

/** Node.js >= 22.12 (23.1 on the 23 line) on Linux: where `listen({ reusePort })` exists. */
export function reusePortSupported(version = process.versions.node, platform = process.platform): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return platform === 'linux' && (major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12));
}

function assertSupported(): void {
  if (reusePortSupported()) return;
  throw new PhasekitError(
    'PHASEKIT_ERR_WORKERS_UNSUPPORTED',
    `worker threads sharing one port need Node.js >= 22.12 on Linux (listen with reusePort); this is Node.js ${process.version} on ${process.platform}. Run one process per core behind a load balancer instead, or upgrade Node.js.`,
  );
}

function workerCount(workers: number | 'auto' | undefined): number {
  if (workers === undefined || workers === 'auto') return availableParallelism();
  if (!Number.isInteger(workers) || workers < 1 || workers > 1024) {
    throw new PhasekitError('PHASEKIT_ERR_BAD_ARGUMENT', `bad workers ${JSON.stringify(workers)}: expected a whole number from 1 to 1024, or "auto"`);
  }
  return workers;
}

/** The config as each worker gets it: a file path (each worker imports it), or a cloneable object. */
function configSource(config: string | URL | EngineConfig): { file: string } | { config: EngineConfig } {
  if (typeof config === 'string') return { file: resolve(config) };
  if (config instanceof URL) return { file: fileURLToPath(config) };
  try {
    return { config: structuredClone(config) };
  } catch (err) {
    throw new PhasekitError(
      'PHASEKIT_ERR_BAD_ARGUMENT',
      'a config with function handlers cannot be sent to worker threads: pass the path (or file URL) of the module that exports it, and each worker imports it',
      { cause: err },
    );
  }
}

/** Where the worker entry is: beside this file (worker-main.ts when running from sources). */
const WORKER_MAIN = new URL(import.meta.url.endsWith('.ts') ? './worker-main.ts' : './worker-main.js', import.meta.url);

/** A worker slot: the thread serving id `id` now (replaced when it dies). */
interface Slot {
  id: number;
  worker: Worker | undefined;
  threadId: number;
  startedAt: number;
  crashes: number;
}

/**
 * Starts `workers` worker threads serving `config` (a .json/.mjs file path or URL, or a config
 * object without functions) on one port. Each runs init and initWorker; `ngx.worker.id()` is
 * 0..N-1. A worker that dies is logged and replaced. Resolves once every worker listens.
 */
export async function createWorkers(config: string | URL | EngineConfig, options: WorkersOptions = {}): Promise<PhasekitWorkers> {
  assertSupported();
  const count = workerCount(options.workers);
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  let source = configSource(config);
  const parsed = 'file' in source ? await readConfig(source.file) : source.config;
  const dicts: SharedDict[] = [];
  for (const [name, spec] of Object.entries(parsed.sharedDicts ?? {})) {
    if (typeof spec === 'string' || typeof spec === 'number') dicts.push(new SharedDict(name, spec));
  }
  const regions: SharedDictRegion[] = dicts.map((d) => d.region);
  const pidTable = new Int32Array(new SharedArrayBuffer(4 * count));
  const slots: Slot[] = Array.from({ length: count }, (_, id) => ({ id, worker: undefined, threadId: -1, startedAt: 0, crashes: 0 }));
  let port = options.port ?? 8080;
  const host = options.host ?? '127.0.0.1';
  let closing = false;
  let reloadSeq = 0;
  /** Reloads under way: the workers that have not answered yet, and the errors of those that failed. */
  const pendingReloads = new Map<number, { waiting: Set<number>; errors: string[]; done: (errors: string[]) => void }>();
  const answered = (seq: number, id: number, error: string | undefined) => {
    const r = pendingReloads.get(seq);
    if (r === undefined || !r.waiting.delete(id)) return;
    if (error !== undefined) r.errors.push(`worker ${id}: ${error}`);
    if (r.waiting.size === 0) r.done(r.errors);
  };

  /** Starts the thread for `slot`; resolves when it listens, rejects if it dies first. */
  const start = (slot: Slot): Promise<void> =>
    new Promise((resolveStart, rejectStart) => {
      const boot: WorkerBoot = { id: slot.id, count, host, port, regions, pidTable, source };
      const worker = new Worker(WORKER_MAIN, { workerData: boot });
      const threadId = worker.threadId; // -1 once the thread has exited
      slot.worker = worker;
      slot.threadId = threadId;
      slot.startedAt = Date.now();
      let ready = false;
      let failure: string | undefined;
      worker.on('message', (msg: FromWorker) => {
        if (msg.type === 'ready') {
          ready = true;
          port = msg.port;
          resolveStart();
        } else if (msg.type === 'failed') {
          failure = msg.message;
        } else if (msg.type === 'reloaded') {
          answered(msg.seq, slot.id, msg.error);
        }
      });
      worker.on('error', (err) => {
        failure ??= err.stack ?? String(err);
      });
      worker.on('exit', (code) => {
        if (slot.worker === worker) slot.worker = undefined;
        for (const d of dicts) {
          if (d.releaseLockOf(threadId)) log(`phasekit: worker ${slot.id} died holding shared dict "${d.name}"'s lock: released (its last call may be half done)`);
        }
        if (!ready) {
          rejectStart(new PhasekitError('PHASEKIT_ERR_WORKER_START', `worker ${slot.id} failed to start: ${failure ?? `exited with code ${code}`}`));
          return;
        }
        if (closing) return;
        // Its replacement starts from the config of the latest reload.
        for (const seq of [...pendingReloads.keys()]) answered(seq, slot.id, undefined);
        log(`phasekit: worker ${slot.id} (pid ${Atomics.load(pidTable, slot.id)}) exited with code ${code}${failure === undefined ? '' : `: ${failure}`}; starting a new one`);
        respawn(slot);
      });
    });

  /** Replaces a dead worker; one that keeps dying soon after starting is retried less and less often. */
  const respawn = (slot: Slot): void => {
    slot.crashes = Date.now() - slot.startedAt < 1000 ? slot.crashes + 1 : 0;
    const delay = slot.crashes === 0 ? 0 : Math.min(100 * 2 ** (slot.crashes - 1), 5000);
    const timer = setTimeout(() => {
      if (closing) return;
      start(slot).then(
        () => log(`phasekit: worker ${slot.id} replaced (pid ${Atomics.load(pidTable, slot.id)})`),
        (err: unknown) => {
          log(`phasekit: ${(err as Error).message}`);
          if (!closing) respawn(slot);
        },
      );
    }, delay);
    timer.unref();
  };

  /** Sends `msg` to every running worker; returns their ids. */
  const send = (msg: ToWorker): number[] => {
    const ids: number[] = [];
    for (const s of slots) {
      if (s.worker !== undefined) {
        s.worker.postMessage(msg);
        ids.push(s.id);
      }
    }
    return ids;
  };

  const stopAll = async (): Promise<void> => {
    closing = true;
    await Promise.all(slots.map((s) => (s.worker === undefined ? undefined : s.worker.terminate())));
  };

  try {
    // Worker 0 first: with port 0 it picks the port, which the others then share.
    await start(slots[0] as Slot);
    await Promise.all(slots.slice(1).map((s) => start(s)));
  } catch (err) {
    await stopAll();
    throw err;
  }

  const hostForUrl = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${hostForUrl}:${port}`,
    port,
    count,
    pids: () => Array.from(pidTable),
    reload(next?: EngineConfig): Promise<void> {
      if (closing) return Promise.reject(new PhasekitError('PHASEKIT_ERR_ENGINE_CLOSED', 'the workers are closing'));
      if (next !== undefined) source = configSource(next);
      const seq = ++reloadSeq;
      return new Promise<void>((resolveReload, rejectReload) => {
        const done = (errors: string[]) => {
          pendingReloads.delete(seq);
          if (errors.length === 0) resolveReload();
          else rejectReload(new PhasekitError('PHASEKIT_ERR_CONFIG', `reload failed, still serving the previous config: ${errors.join('; ')}`));
        };
        const waiting = new Set(send({ type: 'reload', seq, source }));
        if (waiting.size === 0) done([]);
        else pendingReloads.set(seq, { waiting, errors: [], done });
      });
    },
    async close(closeOptions = {}): Promise<void> {
      closing = true;
      const exits = slots.map((s) => (s.worker === undefined ? undefined : new Promise((r) => s.worker?.once('exit', r))));
      send({ type: 'close', timeout: closeOptions.timeout });
      await Promise.all(exits);
    },
  };
}
