// The plugins extension of an engine: config keys (plugins, consumers, luaPlugins, dynamicRoutes),
// each location's chain wrapped around its handlers, init_worker and the routes timer per generation.

import type { EngineExtension, ExtensionContext, ExtensionGeneration } from '@phasekit/core';
import { BUILTIN_NAMES } from './builtins/index.js';
import { pluginsConfigSchema } from './config-schema.js';
import { specOf, type Plugin } from './define.js';
import { PluginDefinitionError } from './errors.js';
import { PluginsGeneration, type ChainDescription } from './generation.js';
import type { PluginSpec } from './types.js';

export interface PluginsOptions {
  /** TypeScript plugins (definePlugin), usable in `plugins` lists by name. */
  plugins?: readonly Plugin[];
}

/**
 * Kong-style plugins for an engine: give it to `createEngine`'s `extensions` (the `phasekit`
 * package does, with its `plugins` option).
 */
export class PluginsExtension implements EngineExtension {
  readonly name = 'plugins';
  readonly configSchema = pluginsConfigSchema;
  readonly #typescript: PluginSpec[];
  #current: PluginsGeneration | undefined;

  constructor(options: PluginsOptions = {}) {
    const seen = new Set<string>();
    this.#typescript = (options.plugins ?? []).map((p) => {
      const spec = specOf(p);
      if (BUILTIN_NAMES.includes(spec.name)) throw new PluginDefinitionError(`plugin "${spec.name}" is a built-in plugin; give yours another name`);
      if (seen.has(spec.name)) throw new PluginDefinitionError(`plugin "${spec.name}" is given twice`);
      seen.add(spec.name);
      return spec;
    });
  }

  generation(ctx: ExtensionContext): ExtensionGeneration {
    const gen = new PluginsGeneration(ctx, this.#typescript);
    return {
      compileLocation: (loc) => gen.compileLocation(loc),
      init: () => gen.checkIssues(),
      initWorker: () => gen.initWorker(),
      start: () => {
        this.#current = gen;
      },
      stop: () => {
        if (this.#current === gen) this.#current = undefined;
        gen.stop();
      },
    };
  }

  /**
   * The resolved plugin order of every location of the running generation (and of every dynamic
   * route in each dynamic-routes location), as `phasekit plugins` prints it.
   */
  describe(): ChainDescription[] {
    return this.#current?.describe() ?? [];
  }
}

/** The names of the built-in plugins. */
export const BUILTIN_PLUGINS: readonly string[] = BUILTIN_NAMES;
