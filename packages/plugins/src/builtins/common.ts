// What the built-in plugins share: how one is declared, the engine services they use, Kong's JSON
// error responses, and a few request helpers.

import { isAsyncStore, type AnySharedDict, type Clock, type LogLevel, type Ngx, type SharedDictStore } from '@phasekit/core';
import type { z } from 'zod';
import { validateZod } from '../define.js';
import type { Consumers } from '../consumers.js';
import type { HealthBoard } from '../health.js';
import type { PluginPhase, PluginSite, PluginSpec, RuntimeMethod } from '../types.js';

/** What the engine gives the built-ins, per generation. */
export interface PluginServices {
  readonly clock: Clock;
  readonly sharedDicts: Readonly<Record<string, AnySharedDict>>;
  log(level: LogLevel, message: string, ngx?: Ngx): void;
  /** The consumers `ngx` authenticates against: the config's, with its dynamic routes' over them. */
  consumers(ngx: Ngx): Consumers;
  /** Upstream targets' health (prometheus reads it). */
  readonly health: HealthBoard;
}

interface BuiltinDefinition<S extends z.ZodType, P> {
  name: string;
  priority: number;
  schema: S;
  /** What the methods receive, made once per instance from the validated conf (default: the conf). */
  prepare?(conf: z.output<S>, site: PluginSite): P;
  methods: Partial<Record<PluginPhase, (ngx: Ngx, conf: P) => unknown>>;
}

export const BUILTIN_VERSION = '1.0.0';

export function builtin<S extends z.ZodType, P = z.output<S>>(d: BuiltinDefinition<S, P>): PluginSpec {
  const prepare = d.prepare;
  return {
    name: d.name,
    priority: d.priority,
    version: BUILTIN_VERSION,
    source: 'built-in',
    before: [],
    after: [],
    validate: (conf) => validateZod(d.schema, conf),
    ...(prepare === undefined ? {} : { prepare: (conf: unknown, site: PluginSite) => prepare(conf as z.output<S>, site) }),
    methods: d.methods as Partial<Record<PluginPhase, RuntimeMethod>>,
  };
}

/**
 * Ends the request with Kong's error response: `status`, a JSON body (`{"message": ...}` for a
 * string), `Content-Type: application/json; charset=utf-8`, and `headers`.
 */
export function kongExit(ngx: Ngx, status: number, body: string | Record<string, unknown>, headers?: Readonly<Record<string, string>>): void {
  if (headers !== undefined) for (const [name, value] of Object.entries(headers)) ngx.header[name] = value;
  ngx.status = status;
  ngx.header['Content-Type'] = 'application/json; charset=utf-8';
  ngx.print(JSON.stringify(typeof body === 'string' ? { message: body } : body));
  ngx.exit(status);
}

const VAR_NAMES = new Map<string, string>();

/** One request header's first value (through `$http_*`), or undefined. */
export function header(ngx: Ngx, name: string): string | undefined {
  let varName = VAR_NAMES.get(name);
  if (varName === undefined) {
    varName = `http_${name.toLowerCase().replace(/-/g, '_')}`;
    if (VAR_NAMES.size < 1024) VAR_NAMES.set(name, varName);
  }
  const v = ngx.var[varName];
  return v === null || v === undefined ? undefined : String(v);
}

/** A CORS preflight: OPTIONS with Access-Control-Request-Method. */
export function isPreflight(ngx: Ngx): boolean {
  return ngx.req.getMethod() === 'OPTIONS' && header(ngx, 'access-control-request-method') !== undefined;
}

/** A problem found while preparing an instance: reported as a config issue at `path` inside its conf. */
export class ConfProblem extends Error {
  readonly path: string;
  constructor(path: string, message: string) {
    super(message);
    this.path = path;
  }
}

/** A shared dict by name (in shared memory or on Redis); a config issue at `path` when the config does not declare it. */
export function dictNamed(services: PluginServices, name: string, path: string): AnySharedDict {
  const dict = services.sharedDicts[name];
  if (dict === undefined) throw new ConfProblem(path, `shared dict "${name}" is not declared (add it to sharedDicts)`);
  return dict;
}

/** A shared dict that answers at once (not on Redis): for what a phase that cannot wait reads. */
export function syncDictNamed(services: PluginServices, name: string, path: string): SharedDictStore {
  const dict = dictNamed(services, name, path);
  if (isAsyncStore(dict)) throw new ConfProblem(path, syncOnly(name));
  return dict;
}

/** The issue of an asynchronous (Redis) dict where only one in shared memory will do. */
export function syncOnly(name: string): string {
  return `shared dict "${name}" is on Redis: this needs a dict in shared memory (its calls cannot wait here)`;
}
