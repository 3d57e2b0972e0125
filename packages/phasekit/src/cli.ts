// `phasekit serve <config.json|config.mjs> [--listen HOST:PORT]`, `phasekit plugins <config>`.

import { watch } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { PhasekitError } from '@phasekit/core';
import type { ChainDescription } from '@phasekit/plugins';
import { readConfigFile } from './config-file.js';
import { createEngine, type EngineConfig } from './engine.js';
import { createServer } from './serve.js';
import { createWorkers } from './workers.js';

const USAGE = `usage: phasekit serve <config.json|config.mjs> [--listen HOST:PORT] [--workers N|auto] [--watch]
       phasekit plugins <config.json|config.mjs>

  serve                serve the config
  plugins              print the order plugins run in, per location and dynamic route
  --listen HOST:PORT   address to listen on (default 127.0.0.1:8080)
  --workers N|auto     serve from N worker threads sharing the port and the shared dicts
                       (auto: one per CPU; needs Node.js >= 22.12 on Linux)
  --watch              reload when the config or a file beside it changes
  -h, --help           show this help

A .mjs config may also export \`plugins\`: TypeScript plugins (definePlugin) its entries name.

SIGHUP reloads (config re-read, init and initWorker run again, shared dicts kept);
SIGTERM and SIGINT close gracefully.`;

export class CliUsageError extends PhasekitError {
  constructor(message: string) {
    super('PHASEKIT_ERR_BAD_ARGUMENT', `${message}\n${USAGE}`);
    this.name = 'CliUsageError';
  }
}

/** `phasekit plugins`: each location's chain (and each dynamic route's), in the order they run. */
export function formatChains(chains: readonly ChainDescription[]): string {
  if (chains.length === 0) return 'no locations\n';
  const lines: string[] = [];
  for (const c of chains) {
    lines.push(`${c.path} ${c.location}${c.route === undefined ? '' : ` route "${c.route}"`}`);
    if (c.plugins.length === 0) lines.push('  (no plugins)');
    const width = Math.max(0, ...c.plugins.map((p) => p.name.length));
    c.plugins.forEach((p, i) => lines.push(`  ${i + 1}. ${p.name.padEnd(width)}  ${String(p.priority).padStart(7)}  ${p.source}`));
  }
  return `${lines.join('\n')}\n`;
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
    options: { listen: { type: 'string' }, workers: { type: 'string' }, watch: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const [command, file] = positionals;
  if ((command !== 'serve' && command !== 'plugins') || file === undefined) {
    throw new CliUsageError(command === undefined ? 'no command given' : command === 'serve' || command === 'plugins' ? `${command}: no config file given` : `unknown command "${command}"`);
  }
  if (command === 'plugins') {
    const { config, plugins } = await readConfigFile(file);
    const engine = await createEngine(config, { plugins });
    process.stdout.write(formatChains(engine.describePlugins()));
    await engine.close();
    return 0;
  }
  const listen = parseListen(values.listen ?? '127.0.0.1:8080');
  const server = values.workers === undefined ? await serveOne(file, listen) : await serveWorkers(file, listen, parseWorkers(values.workers));
  const stop = (signal: string) => {
    console.log(`${signal}: closing (in-flight requests finish)`);
    server.close().then(
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
  close(): Promise<void>;
  reload(config: EngineConfig): Promise<void>;
}

async function serveOne(file: string, listen: { host: string; port: number }): Promise<Served> {
  const { config, plugins } = await readConfigFile(file);
  const engine = await createEngine(config, { plugins });
  const server = await createServer(engine, listen);
  console.log(`listening on ${server.url}`);
  return { close: () => server.close(), reload: (config) => engine.reload(config) };
}

async function serveWorkers(file: string, listen: { host: string; port: number }, workers: number | 'auto'): Promise<Served> {
  const pool = await createWorkers(file, { ...listen, workers });
  console.log(`listening on ${pool.url} (${pool.count} worker threads)`);
  // Each worker reads the file again itself (a module's functions cannot be sent to a thread).
  return { close: () => pool.close(), reload: () => pool.reload() };
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
      const { config } = await readConfigFile(file, true);
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
