// definePlugin: a TypeScript plugin, its conf checked by a zod schema.

import type { Ngx } from '@phasekit/core';
import type { z } from 'zod';
import { PluginDefinitionError } from './errors.js';
import { joinPath } from './path.js';
import { PLUGIN_PHASES, type PluginPhase, type PluginSpec, type RuntimeMethod, type Validated } from './types.js';

/** A TypeScript plugin's methods: each runs in its phase with that phase's rules, after `conf` was checked. */
export interface PluginMethods<C> {
  /** Once per engine generation, in the initWorker phase (timers may start here). */
  initWorker?(ngx: Ngx): unknown;
  rewrite?(ngx: Ngx, conf: C): unknown;
  access?(ngx: Ngx, conf: C): unknown;
  /** In the balancer phase of an upstream whose balancer is `gatewayBalancer` (see docs/plugins.md). */
  balancer?(ngx: Ngx, conf: C): unknown;
  headerFilter?(ngx: Ngx, conf: C): unknown;
  bodyFilter?(ngx: Ngx, conf: C): unknown;
  log?(ngx: Ngx, conf: C): unknown;
}

export interface PluginDefinition<S extends z.ZodType = z.ZodType<Record<string, unknown>>> extends PluginMethods<z.output<S>> {
  /** The name `plugins` entries use (`"my-plugin"`): letters, digits, "-" and "_". */
  name: string;
  /** Higher runs first (Kong's PRIORITY): key-auth is 1250, rate-limiting 910. */
  priority: number;
  version?: string;
  /** Checks (and gives defaults to) `conf`; without one, `conf` is what the entry gives (or `{}`). */
  schema?: S;
  /** Names of plugins this one runs before / after when both are in a chain. */
  before?: readonly string[];
  after?: readonly string[];
}

const BRAND = Symbol.for('phasekit.plugin');

/** What definePlugin returns: pass it in the engine's `plugins` option. */
export interface Plugin {
  readonly name: string;
  readonly priority: number;
  readonly [BRAND]: PluginSpec;
}

const NAME = /^[A-Za-z0-9_-]+$/;

/**
 * A TypeScript plugin: `definePlugin({ name, priority, schema, access(ngx, conf) { ... } })`.
 * Methods run in their phase with its rules (async where the phase may wait: rewrite, access).
 */
export function definePlugin<S extends z.ZodType = z.ZodType<Record<string, unknown>>>(definition: PluginDefinition<S>): Plugin {
  const d = definition as PluginDefinition<z.ZodType>;
  if (typeof d !== 'object' || d === null) throw new PluginDefinitionError('definePlugin: a definition object is expected');
  if (typeof d.name !== 'string' || !NAME.test(d.name)) throw new PluginDefinitionError(`definePlugin: bad name ${JSON.stringify(d.name)} (letters, digits, "-" and "_")`);
  if (typeof d.priority !== 'number' || !Number.isFinite(d.priority)) throw new PluginDefinitionError(`definePlugin "${d.name}": priority must be a finite number`);
  const methods: Partial<Record<PluginPhase, RuntimeMethod>> = {};
  for (const phase of PLUGIN_PHASES) {
    const fn = d[phase];
    if (fn === undefined) continue;
    if (typeof fn !== 'function') throw new PluginDefinitionError(`definePlugin "${d.name}": ${phase} must be a function`);
    methods[phase] = (ngx, conf) => fn.call(d, ngx, conf);
  }
  if (d.initWorker !== undefined && typeof d.initWorker !== 'function') throw new PluginDefinitionError(`definePlugin "${d.name}": initWorker must be a function`);
  for (const key of ['before', 'after'] as const) {
    const list = d[key];
    if (list !== undefined && (!Array.isArray(list) || list.some((n) => typeof n !== 'string'))) throw new PluginDefinitionError(`definePlugin "${d.name}": ${key} must be an array of plugin names`);
  }
  const initWorker = d.initWorker;
  const spec: PluginSpec = {
    name: d.name,
    priority: d.priority,
    version: d.version ?? '0.0.0',
    source: 'typescript',
    before: [...(d.before ?? [])],
    after: [...(d.after ?? [])],
    validate: (conf) => validateZod(d.schema, conf),
    methods,
    initWorker: initWorker === undefined ? undefined : (ngx) => initWorker.call(d, ngx),
  };
  return Object.freeze({ name: spec.name, priority: spec.priority, [BRAND]: spec });
}

/** The runtime form of a plugin made by definePlugin. */
export function specOf(plugin: Plugin): PluginSpec {
  const spec = (plugin as { [BRAND]?: PluginSpec } | null)?.[BRAND];
  if (spec === undefined) throw new PluginDefinitionError('plugins: each plugin must come from definePlugin()');
  return spec;
}

/** Checks `conf` (`{}` when absent) with a zod schema; issues carry their path inside conf. */
export function validateZod(schema: z.ZodType | undefined, conf: unknown): Validated {
  const input = conf ?? {};
  if (schema === undefined) return { ok: true, value: input };
  const r = schema.safeParse(input);
  if (r.success) return { ok: true, value: r.data };
  return { ok: false, issues: r.error.issues.map((i) => ({ path: joinPath(...i.path), message: i.message })) };
}
