// The plugin model: per-phase methods, a priority, a version and a schema for `conf`; the runtime
// form every plugin (built-in, TypeScript, Lua) takes once loaded.

import type { Ngx } from '@phasekit/core';

/** The request phases a plugin may have a method for (Kong's, without init_worker). */
export type PluginPhase = 'rewrite' | 'access' | 'balancer' | 'headerFilter' | 'bodyFilter' | 'log';

export const PLUGIN_PHASES: readonly PluginPhase[] = ['rewrite', 'access', 'balancer', 'headerFilter', 'bodyFilter', 'log'];

/** The Lua method name of each phase (Kong's). */
export const LUA_METHOD_NAMES: Readonly<Record<PluginPhase, string>> = {
  rewrite: 'rewrite',
  access: 'access',
  balancer: 'balancer',
  headerFilter: 'header_filter',
  bodyFilter: 'body_filter',
  log: 'log',
};

/** One problem with a plugin's `conf`: the path inside it (`second`, `key_names[1]`) and what is wrong. */
export interface ConfIssue {
  readonly path: string;
  readonly message: string;
}

export type Validated = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly issues: readonly ConfIssue[] };

/** Where a plugin instance runs: the location (its `match`) and, for a dynamic route, the route's name. */
export interface PluginSite {
  readonly location: string;
  readonly route: string | undefined;
}

/** A method as the chain calls it: with the instance's prepared conf. */
export type RuntimeMethod = (ngx: Ngx, conf: unknown) => unknown;

/** A plugin as the engine runs it, whatever it was written in. */
export interface PluginSpec {
  readonly name: string;
  readonly priority: number;
  readonly version: string;
  readonly source: 'built-in' | 'typescript' | 'lua';
  /** Names of plugins this one runs before / after (when both are in a chain). */
  readonly before: readonly string[];
  readonly after: readonly string[];
  /** Checks `conf` (undefined when the entry has none), applying defaults. */
  validate(conf: unknown): Validated;
  /** What the methods receive as `conf` for one instance (a Lua table for Lua plugins); default: the validated conf. */
  prepare?(conf: unknown, site: PluginSite): unknown;
  readonly methods: Readonly<Partial<Record<PluginPhase, RuntimeMethod>>>;
  /** Runs once per engine generation in the initWorker phase (timers may start there). */
  readonly initWorker?: ((ngx: Ngx) => unknown) | undefined;
}

/** One configured plugin: `{ name, config }` in `plugins` lists (top level, a location, a dynamic route). */
export interface PluginEntry {
  name: string;
  /** The plugin's `conf`, checked against its schema when the engine starts. */
  config?: unknown;
  /** false: this entry turns the plugin off here (e.g. a global one for one location). */
  enabled?: boolean;
  /** Run before / after these plugins (when they are in the same chain), over the priorities. */
  before?: string[];
  after?: string[];
}

/** A consumer with its credentials, as in Kong's declarative config. */
export interface ConsumerConfig {
  username: string;
  id?: string;
  custom_id?: string;
  keyauth_credentials?: { key: string; id?: string }[];
  basicauth_credentials?: { username: string; password: string; id?: string }[];
  jwt_secrets?: { key: string; algorithm?: 'HS256' | 'HS384' | 'HS512' | 'RS256' | 'RS384' | 'RS512'; secret?: string; rsa_public_key?: string; id?: string }[];
}
