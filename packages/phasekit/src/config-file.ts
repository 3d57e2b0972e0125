// Reading a config file (JSON, an ES module's default export, or an OpenResty nginx.conf), as
// `phasekit serve` and worker threads do.

import { readFile } from 'node:fs/promises';
import { dirname, extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PhasekitError } from '@phasekit/core';
import { loadNginxConf } from '@phasekit/nginx';
import { usesLua, type EngineConfig } from './engine.js';

/** True for a file read as an nginx.conf: neither .json nor .mjs/.js. */
export function isNginxConf(file: string): boolean {
  const ext = extname(file.split('?')[0] as string);
  return ext !== '.json' && ext !== '.mjs' && ext !== '.js';
}

/** Reads a config: JSON, an ES module whose default export is the config object, or an nginx.conf (prefix: its folder). */
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
  if (isNginxConf(path)) return loadNginxConf(path).config as EngineConfig;
  return JSON.parse(await readFile(path, 'utf8')) as EngineConfig;
}

/**
 * Loads the config; luaFile paths and lua.packagePath are relative to the config file, as
 * nginx's to its prefix. With `fresh`, an ES module is imported anew (modules are cached by URL).
 */
export async function readConfig(file: string, fresh = false): Promise<EngineConfig> {
  const config = await loadConfig(fresh && (file.endsWith('.mjs') || file.endsWith('.js')) ? `${file}?reload=${Date.now()}` : file);
  if (!usesLua(config)) return config;
  return { ...config, lua: { ...config.lua, prefix: config.lua?.prefix ?? dirname(resolve(file)) } };
}
