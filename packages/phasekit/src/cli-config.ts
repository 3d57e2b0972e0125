// What `phasekit serve|check` read: a JSON config, an ES module's default export, or an OpenResty
// nginx.conf (any other name), with what the CLI needs beside the engine config.

import { readFile } from 'node:fs/promises';
import { dirname, extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PhasekitError } from '@phasekit/core';
import { loadNginxConf, type NginxConf } from '@phasekit/nginx';
import { usesLua, type EngineConfig } from './engine.js';

export interface LoadedConfig {
  readonly config: EngineConfig;
  /** The file as given (with a `?reload=` query for a fresh module import). */
  readonly file: string;
  /** Set for an nginx.conf: its listen addresses, ignored directives, error log, workers. */
  readonly nginx: NginxConf | undefined;
  /** Where relative paths (certificates, luaFile, root) resolve: the config's folder, or -p. */
  readonly prefix: string;
}

export class CliUsageError extends PhasekitError {
  constructor(message: string, usage: string) {
    super('PHASEKIT_ERR_BAD_ARGUMENT', `${message}\n${usage}`);
    this.name = 'CliUsageError';
  }
}

/** True for a file read as an nginx.conf: neither .json nor .mjs/.js. */
export function isNginxConf(file: string): boolean {
  const ext = extname(file.split('?')[0] as string);
  return ext !== '.json' && ext !== '.mjs' && ext !== '.js';
}

/** Reads a config: JSON, or an ES module whose default export is the config object. */
export async function loadConfig(file: string): Promise<EngineConfig> {
  const [name, query] = file.split('?') as [string, string | undefined];
  const path = resolve(name);
  const ext = extname(path);
  if (ext === '.mjs' || ext === '.js') {
    const url = pathToFileURL(path).href + (query === undefined ? '' : `?${query}`);
    const mod = (await import(url)) as { default?: EngineConfig };
    if (mod.default === undefined) throw new PhasekitError('PHASEKIT_ERR_BAD_ARGUMENT', `${file} has no default export`);
    return mod.default;
  }
  return JSON.parse(await readFile(path, 'utf8')) as EngineConfig;
}

/**
 * Loads the config of `serve` / `check`. luaFile paths and lua.packagePath are relative to the
 * config file (as nginx's to its prefix); an nginx.conf's to its prefix (`-p`, default its folder).
 */
export async function readConfig(file: string, prefix?: string): Promise<LoadedConfig> {
  const path = resolve(file.split('?')[0] as string);
  if (isNginxConf(file)) {
    const nginx = loadNginxConf(path, prefix === undefined ? {} : { prefix });
    return { config: nginx.config as EngineConfig, file, nginx, prefix: nginx.prefix };
  }
  const config = await loadConfig(file);
  const root = resolve(prefix ?? dirname(path));
  if (!usesLua(config)) return { config, file, nginx: undefined, prefix: root };
  return { config: { ...config, lua: { ...config.lua, prefix: config.lua?.prefix ?? root } }, file, nginx: undefined, prefix: root };
}
