// The config keys the plugins extension adds: `plugins` (top level and per location), `consumers`,
// `luaPlugins`, `dynamicRoutes`, and per location `dynamicRoutes` and `prometheusMetrics`.

import { z } from 'zod';
import { consumerSchema } from './consumers.js';
import type { ConsumerConfig, PluginEntry } from './types.js';

export const PLUGIN_NAME = /^[A-Za-z0-9_-]+$/;

const pluginName = z.string().regex(PLUGIN_NAME, 'a plugin name is letters, digits, "-" and "_"');

export const pluginEntrySchema = z
  .object({
    name: pluginName,
    config: z.unknown().optional(),
    enabled: z.boolean().optional(),
    before: z.array(pluginName).optional(),
    after: z.array(pluginName).optional(),
  })
  .strict();

/** A `plugins` list: each plugin at most once. */
export const pluginListSchema = z.array(pluginEntrySchema).superRefine((list, ctx) => {
  const seen = new Set<string>();
  list.forEach((e, i) => {
    if (seen.has(e.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `plugin "${e.name}" is configured twice in this list` });
    seen.add(e.name);
  });
});

/** A store of dynamic routes: returns the declarative config (or its JSON text). */
export type RoutesLoader = () => unknown;

const dynamicRoutesSchema = z
  .object({
    /** The shared dict the routes are kept in (keys `routes` and `routes:version`). */
    dict: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a dict name is letters, digits and "_"'),
    /** A declarative file (JSON), relative to lua.prefix (or the working directory). */
    file: z.string().min(1).optional(),
    /** A store: a function returning the declarative config (or a promise of it). */
    load: z.custom<RoutesLoader>((v) => typeof v === 'function', { message: 'expected a function' }).optional(),
    /** Seconds between reloads by the initWorker timer (default 1; 0: load once at start). */
    interval: z.number().min(0).optional(),
  })
  .strict()
  .refine((d) => !(d.file !== undefined && d.load !== undefined), { message: 'give "file" or "load", not both' });

export const pluginsConfigSchema = {
  engine: {
    /** Global plugins: every location runs them (a location's own entry for the same plugin wins). */
    plugins: pluginListSchema.optional(),
    /** Consumers and their credentials (key-auth, basic-auth, jwt). */
    consumers: z.array(consumerSchema).optional(),
    /** Lua plugins to load besides those configured (dynamic routes may use them; their init_worker runs). */
    luaPlugins: z.array(pluginName).optional(),
    /** Routes, upstreams, plugins and consumers loaded at run time into a shared dict. */
    dynamicRoutes: dynamicRoutesSchema.optional(),
  },
  location: {
    plugins: pluginListSchema.optional(),
    /** Requests here are routed by the dynamic routes (their plugins and upstream). */
    dynamicRoutes: z.boolean().optional(),
    /** This location answers with the prometheus plugin's metrics (true: dict "prometheus_metrics"). */
    prometheusMetrics: z.union([z.boolean(), z.object({ dict: z.string().min(1) }).strict()]).optional(),
  },
  contentKeys: ['prometheusMetrics'],
} as const;

export type DynamicRoutesConfig = z.output<typeof dynamicRoutesSchema>;

/** The plugins extension's keys, as TypeScript sees them at the top level of a config. */
export interface PluginsEngineKeys {
  plugins?: PluginEntry[];
  consumers?: ConsumerConfig[];
  luaPlugins?: string[];
  dynamicRoutes?: { dict: string; file?: string; load?: RoutesLoader; interval?: number };
}

/** The plugins extension's keys of a location. */
export interface PluginsLocationKeys {
  plugins?: PluginEntry[];
  dynamicRoutes?: boolean;
  prometheusMetrics?: boolean | { dict: string };
}
