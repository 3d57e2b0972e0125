// Route matching for dynamic routes: regular-expression paths first (in file order), then the
// longest matching prefix; methods and hosts narrow a route down.

import type { DeclarativeRoute } from './declarative.js';

interface Candidate<R> {
  readonly route: R;
  readonly prefix: string | undefined;
  readonly regex: RegExp | undefined;
  readonly methods: ReadonlySet<string> | undefined;
  readonly hosts: readonly string[] | undefined;
  /** How specific it is among equal paths: hosts and methods count. */
  readonly weight: number;
}

export interface RouteMatch<R> {
  readonly route: R;
  /** The part of the path the route's prefix (or regular expression) matched. */
  readonly matched: string;
}

export class Router<R extends { readonly config: DeclarativeRoute }> {
  readonly #candidates: Candidate<R>[] = [];

  constructor(routes: readonly R[]) {
    const regex: Candidate<R>[] = [];
    const prefix: Candidate<R>[] = [];
    for (const route of routes) {
      const c = route.config;
      const base = {
        route,
        methods: c.methods === undefined || c.methods.length === 0 ? undefined : new Set(c.methods),
        hosts: c.hosts === undefined || c.hosts.length === 0 ? undefined : c.hosts.map((h) => h.toLowerCase()),
        weight: (c.hosts?.length ? 2 : 0) + (c.methods?.length ? 1 : 0),
      };
      const paths = c.paths ?? [];
      if (paths.length === 0) prefix.push({ ...base, prefix: '', regex: undefined });
      for (const p of paths) {
        if (p.startsWith('~')) regex.push({ ...base, prefix: undefined, regex: new RegExp(`^(?:${p.slice(1)})`) });
        else prefix.push({ ...base, prefix: p, regex: undefined });
      }
    }
    prefix.sort((a, b) => (b.prefix as string).length - (a.prefix as string).length || b.weight - a.weight);
    this.#candidates = [...regex, ...prefix];
  }

  match(method: string, host: string, path: string): RouteMatch<R> | undefined {
    const h = host.toLowerCase().replace(/:\d+$/, '');
    for (const c of this.#candidates) {
      if (c.methods !== undefined && !c.methods.has(method)) continue;
      if (c.hosts !== undefined && !c.hosts.some((pattern) => hostMatches(pattern, h))) continue;
      if (c.regex !== undefined) {
        const m = c.regex.exec(path);
        if (m !== null) return { route: c.route, matched: m[0] };
      } else if (path.startsWith(c.prefix as string)) {
        return { route: c.route, matched: c.prefix as string };
      }
    }
    return undefined;
  }
}

function hostMatches(pattern: string, host: string): boolean {
  if (pattern.startsWith('*.')) {
    const suffix = pattern.slice(1);
    return host.endsWith(suffix) && !host.slice(0, -suffix.length).includes('.');
  }
  return pattern === host;
}
