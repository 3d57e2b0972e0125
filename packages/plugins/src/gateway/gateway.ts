// Dynamic routes, as the founding gateway does it: a timer started in initWorker (re)loads routes,
// upstreams, plugins and consumers from a file or a store into a shared dict (`routes` and a
// `routes:version` counter); each request reads the version and routes from the compiled view of
// that version. A request keeps the view it started with, so a change never drops one in flight.

import { readFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import type { Ngx, SharedDictStore } from '@phasekit/core';
import type { Chain } from '../chain.js';
import type { DynamicRoutesConfig } from '../config-schema.js';
import { Consumers } from '../consumers.js';
import { RoutesError } from '../errors.js';
import type { HealthBoard } from '../health.js';
import { ChainCompiler, mergeLevels, place, type Issue, type PlacedEntry, type PluginLookup } from '../instances.js';
import { parseDeclarative, type Declarative, type DeclarativeRoute } from './declarative.js';
import { Router } from './router.js';
import { DynamicUpstream, type DownUntil } from './upstream.js';

export const ROUTES_KEY = 'routes';
export const VERSION_KEY = 'routes:version';

/** A location that routes by the dynamic routes. */
export interface DynamicLocation {
  readonly name: string;
  readonly path: string;
  /** Its own `plugins` (over the global ones, under a route's). */
  readonly entries: readonly PlacedEntry[];
}

export interface CompiledRoute {
  readonly config: DeclarativeRoute;
  readonly upstream: DynamicUpstream | undefined;
  /** Its chain in each dynamic location (by location path). */
  readonly chains: ReadonlyMap<string, Chain>;
}

/** One version of the dynamic routes, compiled. */
export interface RoutesView {
  readonly router: Router<CompiledRoute>;
  readonly consumers: Consumers;
  /** The chain for requests no route matched, per location path (global and location plugins). */
  readonly unrouted: ReadonlyMap<string, Chain>;
  readonly routes: readonly CompiledRoute[];
}

export interface GatewayDeps {
  readonly config: DynamicRoutesConfig;
  readonly dict: SharedDictStore;
  /** Where a relative `file` is read from (lua.prefix, else the working directory). */
  readonly prefix: string;
  readonly lookup: PluginLookup;
  readonly globalEntries: readonly PlacedEntry[];
  readonly consumers: Consumers;
  readonly health: HealthBoard;
  log(level: 'error' | 'notice', message: string): void;
}

export class Gateway {
  readonly #deps: GatewayDeps;
  readonly locations: DynamicLocation[] = [];
  readonly #down: DownUntil = new Map();
  #view: RoutesView | undefined;
  #version: unknown;
  /** The text this generation last wrote: an unchanged source is not written again. */
  #written: string | undefined;
  #loading = false;

  constructor(deps: GatewayDeps) {
    this.#deps = deps;
  }

  get source(): string {
    const c = this.#deps.config;
    return c.file ?? (c.load !== undefined ? 'the dynamicRoutes store' : `shared dict "${c.dict}"`);
  }

  /** The view of the version in the dict (compiled when the version changed; a bad one is logged and the previous kept). */
  current(): RoutesView | undefined {
    const dict = this.#deps.dict;
    const version = dict.get(VERSION_KEY);
    if (version === this.#version) return this.#view;
    this.#version = version;
    const text = dict.get(ROUTES_KEY);
    if (typeof text !== 'string') return this.#view;
    try {
      this.#view = this.compile(text, `shared dict "${dict.name}"`);
    } catch (err) {
      this.#deps.log('error', `${(err as Error).message}; still routing by the previous routes`);
    }
    return this.#view;
  }

  /** Compiles a declarative config (text or object); throws RoutesError listing every problem. */
  compile(input: unknown, source: string): RoutesView {
    const parsed = parseDeclarative(input);
    if (!parsed.ok) throw new RoutesError(source, parsed.issues);
    const d: Declarative = parsed.value;
    const issues: Issue[] = [];
    const compiler = new ChainCompiler(this.#deps.lookup, issues);
    const dynConsumers = new Consumers(d.consumers);
    issues.push(...dynConsumers.issues);
    const upstreams = new Map(d.upstreams.map((u) => [u.name, new DynamicUpstream(u, this.#deps.health, this.#down)] as const));
    const globalDyn = place(d.plugins, 'plugins');
    for (const p of globalDyn) compiler.check(p);
    const unrouted = new Map<string, Chain>();
    for (const loc of this.locations) {
      unrouted.set(loc.path, compiler.chain(mergeLevels([this.#deps.globalEntries, globalDyn, loc.entries]), { location: loc.name, route: undefined }, `${loc.path} (no route)`));
    }
    const routes = d.routes.map((r, i): CompiledRoute => {
      const entries = place(r.plugins, `routes[${i}].plugins`);
      for (const p of entries) compiler.check(p);
      const chains = new Map<string, Chain>();
      for (const loc of this.locations) {
        chains.set(loc.path, compiler.chain(mergeLevels([this.#deps.globalEntries, globalDyn, loc.entries, entries]), { location: loc.name, route: r.name }, `route "${r.name}" in ${loc.path}`));
      }
      return { config: r, upstream: r.upstream === undefined ? undefined : upstreams.get(r.upstream), chains };
    });
    if (issues.length > 0) throw new RoutesError(source, issues);
    return { router: new Router(routes), consumers: this.#deps.consumers.with(dynConsumers), unrouted, routes };
  }

  /** Reads the source and, when it changed and is valid, writes it to the dict (a new version). */
  async load(): Promise<void> {
    const c = this.#deps.config;
    if (c.file === undefined && c.load === undefined) return;
    if (this.#loading) return;
    this.#loading = true;
    try {
      const text = await this.#read();
      if (text === this.#written) return;
      const view = this.compile(text, this.source);
      const dict = this.#deps.dict;
      const [ok, err] = dict.set(ROUTES_KEY, text);
      if (ok !== true) throw new Error(`cannot store the routes in shared dict "${dict.name}": ${err}`);
      const [version] = dict.incr(VERSION_KEY, 1, 0);
      this.#written = text;
      this.#view = view;
      this.#version = version;
      if (version !== 1) this.#deps.log('notice', `dynamic routes reloaded from ${this.source} (version ${version})`);
    } finally {
      this.#loading = false;
    }
  }

  async #read(): Promise<string> {
    const c = this.#deps.config;
    if (c.file !== undefined) return readFile(isAbsolute(c.file) ? c.file : join(this.#deps.prefix, c.file), 'utf8');
    const v = await (c.load as () => unknown)();
    return typeof v === 'string' ? v : JSON.stringify(v);
  }

  /** The timer's reload: a failure is logged and the routes in the dict stay. */
  reload(): Promise<void> {
    return this.load().catch((err: unknown) => this.#deps.log('error', `${(err as Error).message}; still routing by the previous routes`));
  }

  /** For `phasekit plugins`: the chains of the current view. */
  describe(): { location: string; route: string | undefined; chain: Chain }[] {
    const view = this.current();
    if (view === undefined) return [];
    return this.locations.flatMap((loc) => view.routes.map((r) => ({ location: loc.path, route: r.config.name, chain: r.chains.get(loc.path) as Chain })));
  }
}

/** The host a request is routed by: its Host header without the port, or the server name. */
export function hostOf(ngx: Ngx): string {
  return String(ngx.var.host ?? '');
}
