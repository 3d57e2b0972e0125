// The declarative routes config (a file, a store, or what a Lua timer writes into the dict): Kong's
// shape, trimmed: upstreams with targets, routes (paths, methods, hosts) with plugins, global
// plugins, consumers.

import { z } from 'zod';
import { consumerSchema } from '../consumers.js';
import { pluginListSchema } from '../config-schema.js';
import { joinPath } from '../path.js';
import { parseTarget } from './target.js';

const name = z.string().regex(/^[A-Za-z0-9_.~-]+$/, 'a name is letters, digits, ".", "-", "_" and "~"');

const target = z.string().refine((t) => parseTarget(t) !== undefined, { message: 'expected host:port ("127.0.0.1:9001", "[::1]:9001")' });

const targetSchema = z.union([
  target,
  z
    .object({
      target,
      weight: z.number().int().min(0).max(65535).optional(),
    })
    .strict(),
]);

const upstreamSchema = z
  .object({
    name,
    targets: z.array(targetSchema).min(1),
    /** Seconds a target that failed stays out of the rotation (default 10). */
    fail_timeout: z.number().min(0).optional(),
  })
  .strict();

const method = z.string().regex(/^[A-Z]+$/, 'expected an upper-case method name');

const routeSchema = z
  .object({
    name,
    /** Prefixes (`/api/`) or, starting with `~`, regular expressions matched from the path's start. */
    paths: z.array(z.string().regex(/^(\/|~)/, 'a path starts with "/" (a prefix) or "~" (a regular expression)')).optional(),
    methods: z.array(method).optional(),
    /** Host names; `*.example.com` matches one level of subdomain. */
    hosts: z.array(z.string().min(1)).optional(),
    /** Where requests go: an upstream's name. Without one, the location's proxyPass target (or content) serves them. */
    upstream: z.string().optional(),
    /** Remove the matched path prefix before proxying (Kong's default: true). */
    strip_path: z.boolean().default(true),
    plugins: pluginListSchema.optional(),
  })
  .strict()
  .refine((r) => (r.paths?.length ?? 0) + (r.methods?.length ?? 0) + (r.hosts?.length ?? 0) > 0, { message: 'a route needs paths, methods or hosts' });

export const declarativeSchema = z
  .object({
    _format_version: z.string().optional(),
    upstreams: z.array(upstreamSchema).default([]),
    routes: z.array(routeSchema).default([]),
    plugins: pluginListSchema.optional(),
    consumers: z.array(consumerSchema).default([]),
  })
  .strict()
  .superRefine((d, ctx) => {
    const upstreams = new Set<string>();
    d.upstreams.forEach((u, i) => {
      if (upstreams.has(u.name)) ctx.addIssue({ code: 'custom', path: ['upstreams', i, 'name'], message: `upstream "${u.name}" is given twice` });
      upstreams.add(u.name);
    });
    const routes = new Set<string>();
    d.routes.forEach((r, i) => {
      if (routes.has(r.name)) ctx.addIssue({ code: 'custom', path: ['routes', i, 'name'], message: `route "${r.name}" is given twice` });
      routes.add(r.name);
      if (r.upstream !== undefined && !upstreams.has(r.upstream)) ctx.addIssue({ code: 'custom', path: ['routes', i, 'upstream'], message: `no upstream "${r.upstream}"` });
      (r.paths ?? []).forEach((p, j) => {
        if (!p.startsWith('~')) return;
        try {
          new RegExp(p.slice(1));
        } catch (err) {
          ctx.addIssue({ code: 'custom', path: ['routes', i, 'paths', j], message: `bad regular expression: ${(err as Error).message}` });
        }
      });
    });
  });

export type Declarative = z.output<typeof declarativeSchema>;
export type DeclarativeRoute = Declarative['routes'][number];
export type DeclarativeUpstream = Declarative['upstreams'][number];

/** Parses and checks a declarative config (JSON text or an object). */
export function parseDeclarative(input: unknown): { ok: true; value: Declarative } | { ok: false; issues: { path: string; message: string }[] } {
  let value = input;
  if (typeof input === 'string' || input instanceof Uint8Array) {
    try {
      value = JSON.parse(typeof input === 'string' ? input : Buffer.from(input).toString('utf8'));
    } catch (err) {
      return { ok: false, issues: [{ path: '', message: `not JSON: ${(err as Error).message}` }] };
    }
  }
  const r = declarativeSchema.safeParse(value);
  if (r.success) return { ok: true, value: r.data };
  return { ok: false, issues: r.error.issues.map((i) => ({ path: joinPath(...i.path), message: i.message })) };
}
