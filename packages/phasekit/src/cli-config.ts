// What `phasekit serve|check` read: a JSON config, an ES module's default export, or an OpenResty
// nginx.conf (any other name), with what the CLI needs beside the engine config.

import { dirname, resolve } from 'node:path';
import { PhasekitError } from '@phasekit/core';
import { loadNginxConf, type NginxConf } from '@phasekit/nginx';
import type { Plugin } from '@phasekit/plugins';
import { isNginxConf, loadConfigFile, relativeTo } from './config-file.js';
import type { EngineConfig } from './engine.js';

export interface LoadedConfig {
  readonly config: EngineConfig;
  /** The TypeScript plugins an ES module config exports as `plugins`. */
  readonly plugins: readonly Plugin[];
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

/**
 * Loads the config of `serve` / `check`. luaFile paths and lua.packagePath are relative to the
 * config file (as nginx's to its prefix); an nginx.conf's to its prefix (`-p`, default its folder).
 */
export async function readConfig(file: string, prefix?: string): Promise<LoadedConfig> {
  const path = resolve(file.split('?')[0] as string);
  if (isNginxConf(file)) {
    const nginx = loadNginxConf(path, prefix === undefined ? {} : { prefix });
    return { config: nginx.config as EngineConfig, plugins: [], file, nginx, prefix: nginx.prefix };
  }
  const root = resolve(prefix ?? dirname(path));
  const { config, plugins } = relativeTo(await loadConfigFile(file), root);
  return { config, plugins, file, nginx: undefined, prefix: root };
}
