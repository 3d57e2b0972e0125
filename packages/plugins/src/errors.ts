// Error codes of @phasekit/plugins; all listed in docs/reference/errors.md. Config problems are
// core's ConfigError (PHASEKIT_ERR_CONFIG), each issue naming its path.

import { BrandedError, describeError } from '@phasekit/core';

export const PLUGIN_ERROR_CODES = {
  PHASEKIT_ERR_PLUGIN: 'a plugin method threw or rejected (the log names the plugin and the phase)',
  PHASEKIT_ERR_PLUGIN_DEFINITION: 'definePlugin was given a definition it cannot use',
  PHASEKIT_ERR_PLUGIN_ORDER: "the plugins' before/after constraints form a cycle",
  PHASEKIT_ERR_ROUTES: 'the dynamic routes (file, store or shared dict) are invalid; the previous routes stay',
} as const;

export type PluginErrorCode = keyof typeof PLUGIN_ERROR_CODES;

/** A plugin's method failed: `cause` is what it threw. The message names the plugin and the phase. */
export class PluginError extends BrandedError {
  readonly code = 'PHASEKIT_ERR_PLUGIN';
  readonly plugin: string;
  readonly phase: string;
  constructor(plugin: string, phase: string, cause: unknown) {
    super(`plugin "${plugin}" failed in ${phase}: ${describeError(cause)}`, { cause });
    this.name = 'PluginError';
    this.plugin = plugin;
    this.phase = phase;
    // The log shows the stack after the message: keep the cause's (a Lua traceback for Lua plugins).
    if (cause instanceof Error && cause.stack !== undefined) this.stack = cause.stack;
  }
}

export class PluginDefinitionError extends BrandedError {
  readonly code = 'PHASEKIT_ERR_PLUGIN_DEFINITION';
  constructor(message: string) {
    super(message);
    this.name = 'PluginDefinitionError';
  }
}

export class PluginOrderError extends BrandedError {
  readonly code = 'PHASEKIT_ERR_PLUGIN_ORDER';
  /** The plugins of the cycle, in order, the first repeated at the end. */
  readonly cycle: readonly string[];
  constructor(where: string, cycle: readonly string[]) {
    super(`${where}: the plugins' before/after constraints form a cycle: ${cycle.map((n) => `"${n}"`).join(' runs before ')}`);
    this.name = 'PluginOrderError';
    this.cycle = cycle;
  }
}

export class RoutesError extends BrandedError {
  readonly code = 'PHASEKIT_ERR_ROUTES';
  readonly issues: readonly { path: string; message: string }[];
  constructor(source: string, issues: readonly { path: string; message: string }[]) {
    super(`dynamic routes from ${source} are invalid: ${issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ')}`);
    this.name = 'RoutesError';
    this.issues = issues;
  }
}
