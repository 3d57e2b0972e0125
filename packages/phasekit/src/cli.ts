// `phasekit serve <config.json|config.mjs|nginx.conf>`, `phasekit check <config>`, `phasekit run`,
// `phasekit plugins <config>`.

import { watch } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { runCheck } from './cli-check.js';
import { CliUsageError, readConfig } from './cli-config.js';
import { listenersOf, type Listener } from './cli-listen.js';
import { Output } from './cli-output.js';
import { runLua } from './cli-run.js';
import { planWorkers, serveOne, serveWorkers, type Served } from './cli-serve.js';
import type { ChainDescription } from '@phasekit/plugins';
import { createEngine, type EngineConfig } from './engine.js';

export { CliUsageError } from './cli-config.js';
export { loadConfig } from './config-file.js';

const USAGE = `usage: phasekit serve <config.json|config.mjs|nginx.conf> [--listen HOST:PORT] [--workers N|auto] [--watch] [--quiet] [-p PREFIX]
                      [--shutdown-timeout SECONDS]
       phasekit check <config.json|config.mjs|nginx.conf> [-p PREFIX] [--quiet]
       phasekit run [-e CODE | script.lua [args...]] [--shdict 'NAME SIZE']... [-I DIR]...
       phasekit plugins <config.json|config.mjs>

serve   serves the config with node:http (https for an nginx.conf "listen ... ssl")
  --listen HOST:PORT   address to listen on (default: the config's listen addresses, else 127.0.0.1:8080)
  --workers N|auto     serve from N worker threads sharing the port and the shared dicts (default:
                       an nginx.conf's worker_processes; needs Node.js >= 22.12 on Linux)
  --watch              reload when the config or a file beside it changes
  -q, --quiet          print nothing but errors
  -p, --prefix DIR     nginx's -p: where relative paths resolve (default: the config's folder)
  --shutdown-timeout S on SIGTERM/SIGINT, requests still running after S seconds have their
                       connections closed and the process exits (default: the config's
                       shutdownTimeout, 10; nginx's worker_shutdown_timeout)
check   validates and compiles everything (nginx -t), prints what would be served; exit code 0 or 1
run     runs Lua as OpenResty's resty does, in a timer context; ngx.say prints to stdout
  -e CODE              the code to run (else a script file)
  --shdict 'NAME SIZE' a shared dict (repeatable)
  -I DIR               adds DIR/?.lua and DIR/?/init.lua to package.path (repeatable)
plugins prints the order plugins run in, per location and dynamic route
  -h, --help           show this help

A file not named .json, .mjs or .js is read as an nginx.conf. A .mjs config may also export
\`plugins\`: TypeScript plugins (definePlugin) its entries name. SIGHUP reloads (config re-read,
init and initWorker run again, shared dicts kept); SIGTERM and SIGINT close gracefully. A promise
rejection no handler awaited is logged.`;

const usageError = (message: string) => new CliUsageError(message, USAGE);

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
  if (m === null || !Number.isInteger(port) || port < 0 || port > 65535) throw usageError(`bad --listen "${value}": expected HOST:PORT`);
  return { host: m[1] || m[2] || '127.0.0.1', port };
}

/** `--shutdown-timeout`: seconds, 0 or more. */
export function parseSeconds(value: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !Number.isFinite(n)) throw usageError(`bad --shutdown-timeout "${value}": expected seconds (e.g. 10 or 0.5)`);
  return n;
}

export function parseWorkers(value: string): number | 'auto' {
  if (value === 'auto') return 'auto';
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1) throw usageError(`bad --workers "${value}": expected a number of workers (1 or more) or "auto"`);
  return n;
}

/** Runs the CLI; resolves with an exit code for commands that end, never for `serve`. */
export async function main(argv: readonly string[]): Promise<number | undefined> {
  const command = argv[0];
  if (command === 'run') return runLua(argv.slice(1), usageError);
  if (command === 'check') return runCheck(argv.slice(1), usageError);
  if (command === 'plugins') return runPlugins(argv[1]);
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      listen: { type: 'string' },
      workers: { type: 'string' },
      watch: { type: 'boolean' },
      quiet: { type: 'boolean', short: 'q' },
      prefix: { type: 'string', short: 'p' },
      'shutdown-timeout': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const file = positionals[1];
  if (command !== 'serve' || file === undefined) throw usageError(command === undefined ? 'no command given' : command === 'serve' ? 'no config file given' : `unknown command "${command}"`);
  const cliWorkers = values.workers === undefined ? undefined : parseWorkers(values.workers);
  const shutdownTimeout = values['shutdown-timeout'] === undefined ? undefined : parseSeconds(values['shutdown-timeout']);
  const out = new Output({ quiet: values.quiet === true });
  const loaded = await readConfig(file, values.prefix);
  const listeners: Listener[] =
    values.listen !== undefined ? [{ ...parseListen(values.listen), tls: undefined, names: [] }] : listenersOf(loaded.config, loaded.prefix);
  if (listeners.length === 0) listeners.push({ host: '127.0.0.1', port: 8080, tls: undefined, names: [] });
  const plan = planWorkers(cliWorkers, loaded, listeners);
  if (plan.explicit && listeners.length > 1) throw usageError(`--workers serves one address; the config listens on ${listeners.length}: give --listen`);
  const [first] = listeners as [Listener];
  const served: Served = plan.count === 1 ? await serveOne(out, loaded, listeners, plan) : await serveWorkers(out, loaded, first, plan.count);
  const stop = (signal: string) => {
    const seconds = shutdownTimeout ?? served.shutdownTimeout();
    out.info(`${signal}: closing (in-flight requests finish, at most ${seconds} s)`);
    // A backstop: whatever still holds the process (a handler that never yields) does not keep it alive.
    setTimeout(() => {
      console.error(`${signal}: still closing ${seconds + 5} s later: exiting`);
      process.exit(1);
    }, (seconds + 5) * 1000).unref();
    served.close(shutdownTimeout === undefined ? {} : { timeout: shutdownTimeout * 1000 }).then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  const reload = serialReloader(out, file, values.prefix, (config) => served.reload(config));
  process.on('SIGHUP', () => reload('SIGHUP'));
  if (values.watch) watchFiles(dirname(resolve(file)), () => reload('file change'));
  return undefined;
}

/** `phasekit plugins <config>`: builds the engine as serve would and prints each location's plugin chain. */
async function runPlugins(file: string | undefined): Promise<number> {
  if (file === undefined) throw usageError('plugins: no config file given');
  const loaded = await readConfig(file);
  const engine = await createEngine(loaded.config, { plugins: loaded.plugins });
  try {
    process.stdout.write(formatChains(engine.describePlugins()));
  } finally {
    await engine.close();
  }
  return 0;
}

/** One reload at a time; a request arriving during one runs again after it. A failed reload keeps the old code. */
function serialReloader(out: Output, file: string, prefix: string | undefined, apply: (config: EngineConfig) => Promise<void>): (why: string) => void {
  let running = false;
  let again = false;
  const run = async (why: string): Promise<void> => {
    running = true;
    try {
      // A fresh import each time: ES modules are cached by URL.
      const fresh = file.endsWith('.mjs') || file.endsWith('.js') ? `${file}?reload=${Date.now()}` : file;
      await apply((await readConfig(fresh, prefix)).config);
      out.info(`${why}: reloaded`);
    } catch (err) {
      out.error(`${why}: reload failed, still serving the previous config: ${(err as Error).message}`);
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
