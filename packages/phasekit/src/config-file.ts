// Reading a config file (JSON, or an ES module's default export), as `phasekit serve` and worker threads do.

import { readFile } from 'node:fs/promises';
import { dirname, extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PhasekitError } from '@phasekit/core';
import { usesLua, type EngineConfig } from './engine.js';

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
 * Loads the config; luaFile paths and lua.packagePath are relative to the config file, as
 * nginx's to its prefix. With `fresh`, an ES module is imported anew (modules are cached by URL).
 */
export async function readConfig(file: string, fresh = false): Promise<EngineConfig> {
  const config = await loadConfig(fresh && !file.endsWith('.json') ? `${file}?reload=${Date.now()}` : file);
  if (!usesLua(config)) return config;
  return { ...config, lua: { ...config.lua, prefix: config.lua?.prefix ?? dirname(resolve(file)) } };
}
