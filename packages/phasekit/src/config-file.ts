// Reading a config file (JSON, an ES module's default export and its `plugins`, or an OpenResty
// nginx.conf), as `phasekit serve|check|plugins` and worker threads do.

import { readFile } from 'node:fs/promises';
import { dirname, extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PhasekitError } from '@phasekit/core';
import { loadNginxConf } from '@phasekit/nginx';
import type { Plugin } from '@phasekit/plugins';
import { usesLua, type EngineConfig } from './engine.js';

/** A config file's contents: the config, and the TypeScript plugins an ES module exports as `plugins`. */
export interface ConfigFile {
  config: EngineConfig;
  plugins: readonly Plugin[];
}

/** True for a file read as an nginx.conf: neither .json nor .mjs/.js. */
export function isNginxConf(file: string): boolean {
  const ext = extname(file.split('?')[0] as string);
  return ext !== '.json' && ext !== '.mjs' && ext !== '.js';
}

/** Reads a config and its plugins: JSON, an ES module (default export and `plugins`), or an nginx.conf (prefix: its folder). */
export async function loadConfigFile(file: string): Promise<ConfigFile> {
  const [name, query] = file.split('?') as [string, string | undefined];
  const path = resolve(name);
  const ext = extname(path);
  if (ext === '.mjs' || ext === '.js') {
    const url = pathToFileURL(path).href + (query === undefined ? '' : `?${query}`);
    const mod = (await import(url)) as { default?: EngineConfig; plugins?: readonly Plugin[] };
    if (mod.default === undefined) throw new PhasekitError('PHASEKIT_ERR_BAD_ARGUMENT', `${file} has no default export`);
    return { config: mod.default, plugins: mod.plugins ?? [] };
  }
  if (isNginxConf(path)) return { config: loadNginxConf(path).config as EngineConfig, plugins: [] };
  return { config: JSON.parse(await readFile(path, 'utf8')) as EngineConfig, plugins: [] };
}

/** loadConfigFile's config alone. */
export async function loadConfig(file: string): Promise<EngineConfig> {
  return (await loadConfigFile(file)).config;
}

/**
 * Relative paths of a config read from `dir`: luaFile paths, lua.packagePath and a dynamic
 * routes file resolve from the config's folder, as nginx's from its prefix.
 */
export function relativeTo(loaded: ConfigFile, dir: string): ConfigFile {
  const { plugins } = loaded;
  const routes = loaded.config.dynamicRoutes;
  const config = routes?.file === undefined ? loaded.config : { ...loaded.config, dynamicRoutes: { ...routes, file: resolve(dir, routes.file) } };
  if (!usesLua(config, plugins.map((p) => p.name))) return { config, plugins };
  return { config: { ...config, lua: { ...config.lua, prefix: config.lua?.prefix ?? dir } }, plugins };
}

/**
 * Loads the config and its plugins, relative paths from the config's folder. With `fresh`, an ES
 * module is imported anew (modules are cached by URL).
 */
export async function readConfigFile(file: string, fresh = false): Promise<ConfigFile> {
  const loaded = await loadConfigFile(fresh && (file.endsWith('.mjs') || file.endsWith('.js')) ? `${file}?reload=${Date.now()}` : file);
  return relativeTo(loaded, dirname(resolve(file)));
}

/** readConfigFile's config alone. */
export async function readConfig(file: string, fresh = false): Promise<EngineConfig> {
  return (await readConfigFile(file, fresh)).config;
}
