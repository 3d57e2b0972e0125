// Reading a config file (JSON, or an ES module's default export and its `plugins`), as
// `phasekit serve`, `phasekit plugins` and worker threads do.

import { readFile } from 'node:fs/promises';
import { dirname, extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PhasekitError } from '@phasekit/core';
import type { Plugin } from '@phasekit/plugins';
import { usesLua, type EngineConfig } from './engine.js';

/** A config file's contents: the config, and the TypeScript plugins an ES module exports as `plugins`. */
export interface ConfigFile {
  config: EngineConfig;
  plugins: readonly Plugin[];
}

/** Reads a config: JSON, or an ES module whose default export is the config object. */
export async function loadConfig(file: string): Promise<EngineConfig> {
  return (await loadModule(file)).config;
}

async function loadModule(file: string): Promise<ConfigFile> {
  const [name, query] = file.split('?') as [string, string | undefined];
  const path = resolve(name);
  const ext = extname(path);
  if (ext === '.mjs' || ext === '.js') {
    const url = pathToFileURL(path).href + (query === undefined ? '' : `?${query}`);
    const mod = (await import(url)) as { default?: EngineConfig; plugins?: readonly Plugin[] };
    if (mod.default === undefined) throw new PhasekitError('PHASEKIT_ERR_BAD_ARGUMENT', `${file} has no default export`);
    return { config: mod.default, plugins: mod.plugins ?? [] };
  }
  return { config: JSON.parse(await readFile(path, 'utf8')) as EngineConfig, plugins: [] };
}

/**
 * Loads the config and its plugins; luaFile paths, lua.packagePath and a dynamic routes file are
 * relative to the config file, as nginx's to its prefix. With `fresh`, an ES module is imported
 * anew (modules are cached by URL).
 */
export async function readConfigFile(file: string, fresh = false): Promise<ConfigFile> {
  const { config: loaded, plugins } = await loadModule(fresh && !file.endsWith('.json') ? `${file}?reload=${Date.now()}` : file);
  const dir = dirname(resolve(file));
  const routes = loaded.dynamicRoutes;
  const config = routes?.file === undefined || loaded.lua?.prefix !== undefined ? loaded : { ...loaded, dynamicRoutes: { ...routes, file: resolve(dir, routes.file) } };
  if (!usesLua(config, plugins.map((p) => p.name))) return { config, plugins };
  return { config: { ...config, lua: { ...config.lua, prefix: config.lua?.prefix ?? dir } }, plugins };
}

/** readConfigFile's config alone. */
export async function readConfig(file: string, fresh = false): Promise<EngineConfig> {
  return (await readConfigFile(file, fresh)).config;
}
