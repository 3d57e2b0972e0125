// `phasekit serve <config.json|config.mjs> [--listen HOST:PORT]`.

import { watch } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_SHUTDOWN_TIMEOUT_S, logUnhandledRejections, PhasekitError } from '@phasekit/core';
import { readConfig } from './config-file.js';
import { createEngine, type EngineConfig } from './engine.js';
import { createServer } from './serve.js';
import { createWorkers } from './workers.js';

const USAGE = `usage: phasekit serve <config.json|config.mjs> [--listen HOST:PORT] [--workers N|auto] [--watch]
                      [--shutdown-timeout SECONDS]

  --listen HOST:PORT   address to listen on (default 127.0.0.1:8080)
  --workers N|auto     serve from N worker threads sharing the port and the shared dicts
                       (auto: one per CPU; needs Node.js >= 22.12 on Linux)
  --watch              reload when the config or a file beside it changes
  --shutdown-timeout S on SIGTERM/SIGINT, requests still running after S seconds have their
                       connections closed and the process exits (default: the config's
                       shutdownTimeout, 10; nginx's worker_shutdown_timeout)
  -h, --help           show this help

SIGHUP reloads (config re-read, init and initWorker run again, shared dicts kept);
SIGTERM and SIGINT close gracefully. A promise rejection no handler awaited is logged.`;

export class CliUsageError extends PhasekitError {
  constructor(message: string) {
    super('PHASEKIT_ERR_BAD_ARGUMENT', `${message}\n${USAGE}`);
    this.name = 'CliUsageError';
  }
}

export function parseListen(value: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(value) ?? /^()()(\d+)$/.exec(value);
  const port = Number(m?.[3]);
  if (m === null || !Number.isInteger(port) || port < 0 || port > 65535) throw new CliUsageError(`bad --listen "${value}": expected HOST:PORT`);
  return { host: m[1] || m[2] || '127.0.0.1', port };
}

/** Runs the CLI; resolves with an exit code for commands that end, never for `serve`. */
export async function main(argv: readonly string[]): Promise<number | undefined> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: { listen: { type: 'string' }, workers: { type: 'string' }, watch: { type: 'boolean' }, 'shutdown-timeout': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const [command, file] = positionals;
  if (command !== 'serve' || file === undefined) throw new CliUsageError(command === undefined ? 'no command given' : `unknown command "${command}"`);
  const listen = parseListen(values.listen ?? '127.0.0.1:8080');
  const shutdownTimeout = values['shutdown-timeout'] === undefined ? undefined : parseSeconds(values['shutdown-timeout']);
  const server = values.workers === undefined ? await serveOne(file, listen) : await serveWorkers(file, listen, parseWorkers(values.workers));
  const stop = (signal: string) => {
    const seconds = shutdownTimeout ?? server.shutdownTimeout();
    console.log(`${signal}: closing (in-flight requests finish, at most ${seconds} s)`);
    // A backstop: whatever still holds the process (a handler that never yields) does not keep it alive.
    setTimeout(() => {
      console.error(`${signal}: still closing ${seconds + 5} s later: exiting`);
      process.exit(1);
    }, (seconds + 5) * 1000).unref();
    server.close(shutdownTimeout === undefined ? {} : { timeout: shutdownTimeout * 1000 }).then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  const reload = serialReloader(file, (config) => server.reload(config));
  process.on('SIGHUP', () => reload('SIGHUP'));
  if (values.watch) watchFiles(dirname(resolve(file)), () => reload('file change'));
  return undefined;
}

/** What the CLI runs: one engine in this thread, or worker threads. */
interface Served {
  close(options: { timeout?: number }): Promise<void>;
  reload(config: EngineConfig): Promise<void>;
  /** Seconds the config gives requests in flight on close. */
  shutdownTimeout(): number;
}

async function serveOne(file: string, listen: { host: string; port: number }): Promise<Served> {
  let config = await readConfig(file);
  const engine = await createEngine(config);
  // A rejection no handler awaited is logged, not the end of the process.
  logUnhandledRejections(engine);
  const server = await createServer(engine, listen);
  console.log(`listening on ${server.url}`);
  return {
    close: (options) => server.close(options),
    reload: async (next) => {
      await engine.reload(next);
      config = next;
    },
    shutdownTimeout: () => config.shutdownTimeout ?? DEFAULT_SHUTDOWN_TIMEOUT_S,
  };
}

async function serveWorkers(file: string, listen: { host: string; port: number }, workers: number | 'auto'): Promise<Served> {
  const config = await readConfig(file);
  const pool = await createWorkers(file, { ...listen, workers });
  console.log(`listening on ${pool.url} (${pool.count} worker threads)`);
  // Each worker reads the file again itself (a module's functions cannot be sent to a thread).
  return { close: (options) => pool.close(options), reload: () => pool.reload(), shutdownTimeout: () => config.shutdownTimeout ?? DEFAULT_SHUTDOWN_TIMEOUT_S };
}

/** `--shutdown-timeout`: seconds, 0 or more. */
export function parseSeconds(value: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !Number.isFinite(n)) throw new CliUsageError(`bad --shutdown-timeout "${value}": expected seconds (e.g. 10 or 0.5)`);
  return n;
}

export function parseWorkers(value: string): number | 'auto' {
  if (value === 'auto') return 'auto';
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1) throw new CliUsageError(`bad --workers "${value}": expected a number of workers (1 or more) or "auto"`);
  return n;
}

/** One reload at a time; a request arriving during one runs again after it. A failed reload keeps the old code. */
function serialReloader(file: string, apply: (config: EngineConfig) => Promise<void>): (why: string) => void {
  let running = false;
  let again = false;
  const run = async (why: string): Promise<void> => {
    running = true;
    try {
      const config = await readConfig(file, true);
      await apply(config);
      console.log(`${why}: reloaded`);
    } catch (err) {
      console.error(`${why}: reload failed, still serving the previous config: ${(err as Error).message}`);
    } finally {
      running = false;
      if (again) {
        again = false;
        void run(why);
      }
    }
  };
  return (why) => {
    if (running) again = true;
    else void run(why);
  };
}

/** Calls `onChange` (debounced) when a file under `dir` changes. */
function watchFiles(dir: string, onChange: () => void): void {
  let timer: NodeJS.Timeout | undefined;
  const watcher = watch(dir, { recursive: true, persistent: false }, () => {
    clearTimeout(timer);
    timer = setTimeout(onChange, 100);
  });
  watcher.on('error', (err) => console.error(`--watch: ${err.message}`));
}
