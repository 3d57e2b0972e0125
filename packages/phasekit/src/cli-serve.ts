// What `phasekit serve` starts: one engine in this thread on every listen address, or worker
// threads on one address (--workers, or an nginx.conf's worker_processes); and its start-up lines.

import { resolve } from 'node:path';
import { DEFAULT_SHUTDOWN_TIMEOUT_S, logUnhandledRejections, type Logger } from '@phasekit/core';
import type { LoadedConfig } from './cli-config.js';
import type { Listener } from './cli-listen.js';
import { fileLogger } from './cli-logger.js';
import { describeDicts, printIgnored, type Output } from './cli-output.js';
import { createEngine, type EngineConfig } from './engine.js';
import { createServer, type PhasekitServer } from './serve.js';
import { createWorkers, reusePortSupported } from './workers.js';

/** What the CLI runs, for signals and reloads. */
export interface Served {
  /** `timeout` (ms): requests still running after it have their connections closed. */
  close(options?: { timeout?: number }): Promise<void>;
  /** A new config (an nginx.conf read again), or none: every worker reads its file again. */
  reload(config: EngineConfig): Promise<void>;
  /** Seconds the config gives requests in flight on close (`shutdownTimeout`). */
  shutdownTimeout(): number;
}

/** How many threads serve, and why not more when worker_processes asked for more. */
export interface WorkerPlan {
  readonly count: number | 'auto';
  /** --workers given: a failure to start them is an error, not a fallback. */
  readonly explicit: boolean;
  readonly note: string | undefined;
}

/** --workers wins; else worker_processes, when worker threads can honour it (one plain-HTTP address, Node >= 22.12 on Linux). */
export function planWorkers(cliWorkers: number | 'auto' | undefined, loaded: LoadedConfig, listeners: readonly Listener[]): WorkerPlan {
  if (cliWorkers !== undefined) return { count: cliWorkers, explicit: true, note: undefined };
  const wanted = loaded.nginx?.workers;
  if (wanted === undefined || wanted === 1) return { count: 1, explicit: false, note: undefined };
  const why = !reusePortSupported()
    ? `worker threads need Node.js >= 22.12 on Linux, this is ${process.version} on ${process.platform}`
    : listeners.length !== 1
      ? 'worker threads share one listen address, this config has several'
      : listeners[0]?.tls !== undefined
        ? 'worker threads serve plain HTTP only'
        : undefined;
  if (why !== undefined) return { count: 1, explicit: false, note: `worker_processes ${wanted} not applied: ${why}` };
  return { count: wanted, explicit: false, note: undefined };
}

/** An nginx.conf's error_log: a file (under the prefix) or stderr. */
function errorLogger(loaded: LoadedConfig): Logger | undefined {
  const path = loaded.nginx?.errorLog?.path;
  if (path === undefined || path === 'stderr' || path === '/dev/stderr') return undefined;
  return fileLogger(resolve(loaded.prefix, path));
}

/** One engine in this thread, a server on every listener; start-up lines when all listen. */
export async function serveOne(out: Output, loaded: LoadedConfig, listeners: readonly Listener[], plan: WorkerPlan): Promise<Served> {
  const logger = errorLogger(loaded);
  const engine = await createEngine(loaded.config, logger === undefined ? { plugins: loaded.plugins } : { logger, plugins: loaded.plugins });
  // A rejection no handler awaited is logged, not the end of the process.
  logUnhandledRejections(engine);
  let config = loaded.config;
  const servers: PhasekitServer[] = [];
  try {
    for (const l of listeners) servers.push(await createServer(engine, { host: l.host, port: l.port, ...(l.tls === undefined ? {} : { tls: l.tls }) }));
  } catch (err) {
    await Promise.all(servers.map((s) => s.close()));
    await engine.close();
    throw err;
  }
  heading(out, loaded);
  servers.forEach((s, i) => out.info(`listening on ${out.style(s.url, 'green')}${serverNames(out, listeners[i])}`));
  details(out, loaded, `workers: 1${plan.note === undefined ? '' : out.style(`  (${plan.note})`, 'yellow')}`);
  return {
    close: async (options) => void (await Promise.all(servers.map((s) => s.close(options)))),
    reload: async (next) => {
      await engine.reload(next);
      config = next;
    },
    shutdownTimeout: () => config.shutdownTimeout ?? DEFAULT_SHUTDOWN_TIMEOUT_S,
  };
}

/** Worker threads on the one listener. A JSON or module config is read by each worker from its file; an nginx.conf is sent mapped. */
export async function serveWorkers(out: Output, loaded: LoadedConfig, listener: Listener, count: number | 'auto'): Promise<Served> {
  const source = loaded.nginx === undefined ? loaded.file : loaded.config;
  const pool = await createWorkers(source, { host: listener.host, port: listener.port, workers: count });
  heading(out, loaded);
  out.info(`listening on ${out.style(pool.url, 'green')} (${pool.count} worker threads)${serverNames(out, listener)}`);
  details(out, loaded, `workers: ${pool.count} threads${loaded.nginx?.errorLog !== undefined ? out.style('  (their error log goes to stderr)', 'dim') : ''}`);
  return {
    close: (options) => pool.close(options),
    reload: (config) => (loaded.nginx === undefined ? pool.reload() : pool.reload(config)),
    shutdownTimeout: () => loaded.config.shutdownTimeout ?? DEFAULT_SHUTDOWN_TIMEOUT_S,
  };
}

function heading(out: Output, loaded: LoadedConfig): void {
  const kind = loaded.nginx !== undefined ? 'nginx.conf' : loaded.file.endsWith('.json') ? 'JSON config' : 'config module';
  out.info(`${out.style('phasekit', 'bold')} serving ${loaded.file} ${out.style(`(${kind})`, 'dim')}`);
}

function serverNames(out: Output, listener: Listener | undefined): string {
  const names = listener?.names.filter((n) => n !== '') ?? [];
  return names.length > 0 ? out.style(`  servers: ${[...new Set(names)].join(', ')}`, 'dim') : '';
}

function details(out: Output, loaded: LoadedConfig, workers: string): void {
  const dicts = loaded.config.sharedDicts ?? {};
  if (Object.keys(dicts).length > 0) out.info(`shared dicts: ${describeDicts(dicts)}`);
  out.info(workers);
  if (loaded.nginx !== undefined) printIgnored(out, loaded.nginx.ignored);
  out.info(out.style('SIGHUP reloads, SIGTERM or SIGINT stops', 'dim'));
}
