// `phasekit serve <config.json|config.mjs> [--listen HOST:PORT]`.

import { readFile } from 'node:fs/promises';
import { dirname, extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { PhasekitError, type EngineConfig } from '@phasekit/core';
import { createEngine, usesLua } from './create-engine.js';
import { createServer } from './serve.js';

const USAGE = `usage: phasekit serve <config.json|config.mjs> [--listen HOST:PORT]

  --listen HOST:PORT   address to listen on (default 127.0.0.1:8080)
  -h, --help           show this help`;

export class CliUsageError extends PhasekitError {
  constructor(message: string) {
    super('PHASEKIT_ERR_BAD_ARGUMENT', `${message}\n${USAGE}`);
    this.name = 'CliUsageError';
  }
}

/** Reads a config: JSON, or an ES module whose default export is the config object. */
export async function loadConfig(file: string): Promise<EngineConfig> {
  const path = resolve(file);
  const ext = extname(path);
  if (ext === '.mjs' || ext === '.js') {
    const mod = (await import(pathToFileURL(path).href)) as { default?: EngineConfig };
    if (mod.default === undefined) throw new CliUsageError(`${file} has no default export`);
    return mod.default;
  }
  return JSON.parse(await readFile(path, 'utf8')) as EngineConfig;
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
    options: { listen: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const [command, file] = positionals;
  if (command !== 'serve' || file === undefined) throw new CliUsageError(command === undefined ? 'no command given' : `unknown command "${command}"`);
  const listen = parseListen(values.listen ?? '127.0.0.1:8080');
  const config = await loadConfig(file);
  // luaFile handlers and lua.packagePath are relative to the config file, as nginx's to its prefix.
  const withPrefix: EngineConfig = { ...config, lua: { ...config.lua, prefix: config.lua?.prefix ?? dirname(resolve(file)) } };
  const engine = await createEngine(usesLua(config) ? withPrefix : config);
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
  return undefined;
}
