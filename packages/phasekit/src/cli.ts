// `phasekit serve <config.json|config.mjs> [--listen HOST:PORT]`, `phasekit plugins <config>`.

import { watch } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { PhasekitError } from '@phasekit/core';
import type { ChainDescription, Plugin } from '@phasekit/plugins';
import { createEngine, usesLua, type EngineConfig } from './engine.js';
import { createServer } from './serve.js';

const USAGE = `usage: phasekit serve <config.json|config.mjs> [--listen HOST:PORT] [--watch]
       phasekit plugins <config.json|config.mjs>

  serve                serve the config
  plugins              print the order plugins run in, per location and dynamic route
  --listen HOST:PORT   address to listen on (default 127.0.0.1:8080)
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

/** Reads a config: JSON, or an ES module whose default export is the config object. */
export async function loadConfig(file: string): Promise<EngineConfig> {
  return (await loadModule(file)).config;
}

/** A config, and the TypeScript plugins an ES module config exports as `plugins`. */
async function loadModule(file: string): Promise<{ config: EngineConfig; plugins: readonly Plugin[] }> {
  const [name, query] = file.split('?') as [string, string | undefined];
  const path = resolve(name);
  const ext = extname(path);
  if (ext === '.mjs' || ext === '.js') {
    const url = pathToFileURL(path).href + (query === undefined ? '' : `?${query}`);
    const mod = (await import(url)) as { default?: EngineConfig; plugins?: readonly Plugin[] };
    if (mod.default === undefined) throw new CliUsageError(`${file} has no default export`);
    return { config: mod.default, plugins: mod.plugins ?? [] };
  }
  return { config: JSON.parse(await readFile(path, 'utf8')) as EngineConfig, plugins: [] };
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
    options: { listen: { type: 'string' }, watch: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
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
    const { config, plugins } = await readConfig(file);
    const engine = await createEngine(config, { plugins });
    process.stdout.write(formatChains(engine.describePlugins()));
    await engine.close();
    return 0;
  }
  const listen = parseListen(values.listen ?? '127.0.0.1:8080');
  const { config, plugins } = await readConfig(file);
  const engine = await createEngine(config, { plugins });
  const server = await createServer(engine, listen);
  console.log(`listening on ${server.url}`);
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
  const reload = serialReloader(file, (next) => engine.reload(next));
  process.on('SIGHUP', () => reload('SIGHUP'));
  if (values.watch) watchFiles(dirname(resolve(file)), () => reload('file change'));
  return undefined;
}

/** Loads the config; luaFile paths, lua.packagePath and dynamic routes files are relative to the config file, as nginx's to its prefix. */
async function readConfig(file: string): Promise<{ config: EngineConfig; plugins: readonly Plugin[] }> {
  const { config: loaded, plugins } = await loadModule(file);
  const dir = dirname(resolve(file));
  const routes = loaded.dynamicRoutes;
  const config = routes?.file === undefined || loaded.lua?.prefix !== undefined ? loaded : { ...loaded, dynamicRoutes: { ...routes, file: resolve(dir, routes.file) } };
  if (!usesLua(config, plugins.map((p) => p.name))) return { config, plugins };
  return { config: { ...config, lua: { ...config.lua, prefix: config.lua?.prefix ?? dir } }, plugins };
}

/** One reload at a time; a request arriving during one runs again after it. A failed reload keeps the old code. */
function serialReloader(file: string, apply: (config: EngineConfig) => Promise<void>): (why: string) => void {
  let running = false;
  let again = false;
  const run = async (why: string): Promise<void> => {
    running = true;
    try {
      // A fresh import each time: ES modules are cached by URL.
      const { config } = await readConfig(file.endsWith('.json') ? file : `${file}?reload=${Date.now()}`);
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
