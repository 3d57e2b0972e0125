// The declarative engine config: one plain object (or JSON), validated by zod, errors naming the path.

import { z } from 'zod';
import { ConfigError, type ConfigIssue } from '../errors.js';
import { crossIssues, reservedKeyIssues } from './config-checks.js';
import { parseMatch } from '../http/location.js';
import { checkServerName, parseListenEntry } from '../http/virtual-hosts.js';
import type { Ngx } from '../ngx/types.js';

/** A TypeScript handler: receives the request's `ngx`; may be async where the phase allows waiting. */
export type HandlerFn = (ngx: Ngx) => unknown;
/** A set handler computes one variable's value from its arguments. */
/**
 * A set handler: its args are the location's `args` expanded (a lone variable that is not found
 * passes `undefined`, as ndk's set_var passes nil); the result is stored as nginx stores it (a
 * string as is, a number formatted, anything else as "").
 */
export type SetFn = (ngx: Ngx, ...args: (string | undefined)[]) => string | number | boolean | null | undefined;

const fn = <T>(what: string) =>
  z.custom<T>((v) => typeof v === 'function', { message: `expected ${what}` });

const scriptSpec = {
  lua: z.string().optional(),
  luaFile: z.string().min(1).optional(),
};

/** `fn`, `{ lua }`, `{ luaFile }`, or `{ handler: fn }`: exactly one way to give the code. */
export const handlerSpecSchema = z.union([
  fn<HandlerFn>('a handler function or { lua } / { luaFile }'),
  z
    .object({ ...scriptSpec, handler: fn<HandlerFn>('a function').optional() })
    .strict()
    .superRefine(exactlyOneSource),
]);

function exactlyOneSource(v: { lua?: unknown; luaFile?: unknown; handler?: unknown }, ctx: z.RefinementCtx): void {
  const n = Number(v.lua !== undefined) + Number(v.luaFile !== undefined) + Number(v.handler !== undefined);
  if (n !== 1) ctx.addIssue({ code: 'custom', message: 'give exactly one of "lua", "luaFile" or "handler"' });
}

const varName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a variable name is letters, digits and "_"');

const setSpecSchema = z
  .object({
    var: varName,
    args: z.array(z.string()).optional(),
    ...scriptSpec,
    handler: fn<SetFn>('a function').optional(),
  })
  .strict()
  .superRefine(exactlyOneSource);

const serverSchema = z.union([
  z.string(),
  z
    .object({
      address: z.string(),
      weight: z.number().int().positive().optional(),
      maxFails: z.number().int().min(0).optional(),
      failTimeout: z.number().min(0).optional(),
      backup: z.boolean().optional(),
    })
    .strict(),
]);

const upstreamSchema = z
  .object({
    servers: z.array(serverSchema).optional(),
    /** A balancer handler (balancer_by_lua) picks the peer for each try. */
    balancer: handlerSpecSchema.optional(),
    method: z.enum(['round-robin', 'least-conn', 'hash']).optional(),
    /** For method "hash": the key, with variables (`$remote_addr`, `$arg_user`). */
    hash: z.string().optional(),
    /** Idle keepalive connections kept per peer (0: a new connection per request). */
    keepalive: z.number().int().min(0).optional(),
    healthCheck: z
      .object({
        path: z.string().optional(),
        /** Seconds between checks. */
        interval: z.number().positive(),
        timeout: z.number().positive().optional(),
        /** Consecutive results that mark a peer up / down. */
        healthy: z.number().int().positive().optional(),
        unhealthy: z.number().int().positive().optional(),
        /** Statuses that count as healthy (default 200-399). */
        statuses: z.array(z.number().int()).optional(),
      })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((u, ctx) => {
    if ((u.servers === undefined || u.servers.length === 0) && u.balancer === undefined) {
      ctx.addIssue({ code: 'custom', message: 'an upstream needs servers, or a balancer handler that sets the peer' });
    }
    if (u.method === 'hash' && u.hash === undefined) ctx.addIssue({ code: 'custom', message: 'method "hash" needs a "hash" key, e.g. "$remote_addr"' });
  });

const NEXT_UPSTREAM = ['error', 'timeout', 'invalid_header', 'http_500', 'http_502', 'http_503', 'http_504', 'http_403', 'http_404', 'http_429', 'off'] as const;

const proxySchema = z
  .object({
    /** Seconds (nginx's proxy_connect_timeout, default 60). */
    connectTimeout: z.number().positive().optional(),
    sendTimeout: z.number().positive().optional(),
    readTimeout: z.number().positive().optional(),
    /** proxy_next_upstream (default: error, timeout). */
    nextUpstream: z.array(z.enum(NEXT_UPSTREAM)).optional(),
    /** proxy_next_upstream_tries (default 0: as many as there are peers). */
    nextUpstreamTries: z.number().int().min(0).optional(),
    /** proxy_set_header: values may use variables; "" removes the header. */
    setHeaders: z.record(z.string(), z.string()).optional(),
    /** Add X-Forwarded-For ($proxy_add_x_forwarded_for). */
    xForwardedFor: z.boolean().optional(),
  })
  .strict();

export type ProxyOptions = z.output<typeof proxySchema>;

export type UpstreamConfig = z.output<typeof upstreamSchema>;

/** A location's keys (extensions add their own, see buildConfigSchema). */
const locationShape = {
  match: z.string().superRefine((m, ctx) => {
    const parsed = parseMatch(m);
    if (typeof parsed === 'string') ctx.addIssue({ code: 'custom', message: parsed });
  }),
  internal: z.boolean().optional(),
  vars: z.record(varName, z.string()).optional(),
  set: z.array(setSpecSchema).optional(),
  rewrite: handlerSpecSchema.optional(),
  access: handlerSpecSchema.optional(),
  content: handlerSpecSchema.optional(),
  headerFilter: handlerSpecSchema.optional(),
  bodyFilter: handlerSpecSchema.optional(),
  log: handlerSpecSchema.optional(),
  defaultType: z.string().optional(),
  bodyFilterBuffer: z.object({ maxBytes: z.lazy(() => size) }).strict().optional(),
  /** proxy_pass: an upstream name or a URL, variables allowed (`http://backend`, `http://$target/api`). */
  proxyPass: z.string().regex(/^(https?:\/\/|\$)/, 'proxyPass is a URL (http://upstream-name, http://host:port, http://$host$uri) or a variable holding one ($upstream_url)').optional(),
  proxy: proxySchema.optional(),
  /** lua_check_client_abort for this location (default: the engine's). */
  checkClientAbort: z.boolean().optional(),
};

/** Keys that produce a location's response: at most one of them. */
const CONTENT_KEYS = ['content', 'proxyPass'];

function locationSchemaWith(extra: z.ZodRawShape, contentKeys: readonly string[]) {
  return z
    .object({ ...locationShape, ...extra })
    .strict()
    .superRefine((loc, ctx) => {
      const record = loc as Record<string, unknown>;
      const given = contentKeys.filter((k) => record[k] !== undefined);
      if (given.length > 1) {
        const choices = `${contentKeys.slice(0, -1).join(', ')} or ${contentKeys[contentKeys.length - 1] as string}`;
        ctx.addIssue({ code: 'custom', path: [given[given.length - 1] as string], message: `a location has one of ${choices}, not ${given.join(' and ')}` });
      }
    });
}

const locationSchema = locationSchemaWith({}, CONTENT_KEYS);

/** Phase handlers for a framework route (Fastify's per-route mode). */
export const routeSchema = z
  .object({
    rewrite: handlerSpecSchema.optional(),
    access: handlerSpecSchema.optional(),
    headerFilter: handlerSpecSchema.optional(),
    bodyFilter: handlerSpecSchema.optional(),
    log: handlerSpecSchema.optional(),
  })
  .strict();
export type RouteConfig = z.input<typeof routeSchema>;

const size = z.union([
  z.number().int().positive(),
  z.string().regex(/^\d+[kKmMgG]?$/, 'a size is bytes, or a number with k, m or g ("1m", "512k")'),
]);

/** A shared dict given as an object: its size, and where it lives (default: shared memory). */
const sharedDictSchema = z
  .object({
    size,
    /** `redis://[user:password@]host:port/db` (or rediss://): the dict lives on that Redis server. */
    store: z.string().regex(/^rediss?:\/\//, 'a store is a redis:// or rediss:// URL').optional(),
    /** Redis key prefix (default `phasekit:{<name>}:`). */
    prefix: z.string().min(1).optional(),
    /** Seconds a Redis call may take before it fails with "redis: Command timed out" (default 1). */
    timeout: z.number().positive().optional(),
    /** Seconds Redis keeps an expired entry for get_stale (default 60). */
    staleGrace: z.number().min(0).optional(),
  })
  .strict();
export type SharedDictConfig = z.input<typeof sharedDictSchema>;

const LOG_LEVELS = ['debug', 'info', 'notice', 'warn', 'error', 'crit', 'alert', 'emerg'] as const;
export type LogLevelName = (typeof LOG_LEVELS)[number];

/** A server's names and addresses (the top level is the first server; `servers` adds virtual hosts). */
const serverShape = {
  /** nginx's server_name: exact, `*.wild`, `wild.*` or `~regex` names; the first is $server_name. */
  serverName: z.union([z.string(), z.array(z.string())]).superRefine((v, ctx) => {
    for (const name of typeof v === 'string' ? [v] : v) {
      const problem = checkServerName(name);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
    }
  }).optional(),
  /** nginx's listen: `[host:]port [ssl] [default_server]`; a request is served by a server listening where it came. */
  listen: z.array(z.string().superRefine((v, ctx) => {
    const parsed = parseListenEntry(v);
    if (typeof parsed === 'string') ctx.addIssue({ code: 'custom', message: parsed });
  })).optional(),
  /** Certificate and key files (PEM) `phasekit serve` uses for `ssl` listen addresses. */
  ssl: z.object({ certificate: z.string().min(1), certificateKey: z.string().min(1) }).strict().optional(),
};

/** The engine's top-level keys (extensions add their own, see buildConfigSchema). */
const engineShape = {
    sharedDicts: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a dict name is letters, digits and "_"'), z.union([size, sharedDictSchema])).optional(),
    lua: z
      .object({
        packagePath: z.string().optional(),
        codeCache: z.boolean().optional(),
        /** CPU ms one Lua thread may use (timers: each resume); 0 = no own limit. */
        maxRunMs: z.number().min(0).optional(),
        /** Cap on the Lua heap of the VM ("256m"); 0 = no cap. */
        maxMemory: z.union([z.literal(0), size]).optional(),
        /** Wasm memory size past which the Lua VM is replaced by a fresh one, as a reload does ("128m"); 0 = never. */
        reloadAbove: z.union([z.literal(0), size]).optional(),
        prefix: z.string().optional(),
        /** nginx's `env` directive: names os.getenv may read ("HOME"), or "NAME=value" to set one. */
        env: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*(=.*)?$/s, 'an env entry is NAME or NAME=value')).optional(),
        /** lua_regex_match_limit: ngx.re steps per start position (0: PCRE's default, 10,000,000). */
        regexMatchLimit: z.number().int().min(0).max(4294967295).optional(),
        /** lua_regex_cache_max_entries: patterns ngx.re keeps compiled for the "o" option (0: none). */
        regexCacheMaxEntries: z.number().int().min(0).optional(),
      })
      .strict()
      .optional(),
    upstreams: z.record(z.string().regex(/^[A-Za-z0-9_.-]+$/, 'an upstream name is letters, digits, ".", "-" and "_"'), upstreamSchema).optional(),
    init: handlerSpecSchema.optional(),
    initWorker: handlerSpecSchema.optional(),
    exitWorker: handlerSpecSchema.optional(),
    sslCertificate: handlerSpecSchema.optional(),
    defaultType: z.string().optional(),
    ...serverShape,
    errorLogLevel: z.enum(LOG_LEVELS).optional(),
    clientMaxBodySize: size.optional(),
    clientBodyBufferSize: size.optional(),
    maxInternalRedirects: z.number().int().min(0).max(100).optional(),
    /** CPU ms one request may use over all its phases, filters and subrequests; 0 = no budget. */
    requestCpuBudgetMs: z.number().min(0).optional(),
    maxPendingTimers: z.number().int().positive().optional(),
    maxRunningTimers: z.number().int().positive().optional(),
    /** Cosocket defaults (lua_socket_* and lua_ssl_trusted_certificate); times in seconds. */
    cosocket: z
      .object({
        connectTimeout: z.number().positive().optional(),
        sendTimeout: z.number().positive().optional(),
        readTimeout: z.number().positive().optional(),
        /** Idle time of a pooled connection when setkeepalive gives none (0: no limit). */
        keepaliveTimeout: z.number().min(0).optional(),
        poolSize: z.number().int().positive().optional(),
        logErrors: z.boolean().optional(),
        /** A PEM file of the CAs sslhandshake verifies against (default: Node's bundled roots). */
        sslTrustedCertificate: z.string().optional(),
      })
      .strict()
      .optional(),
    /** lua_check_client_abort: a client that goes away ends the request (or runs ngx.on_abort's handler). */
    checkClientAbort: z.boolean().optional(),
    /**
     * nginx's worker_shutdown_timeout, in seconds (default 10): on close (and for the old
     * generation on reload), requests still running after this long have their connections closed.
     */
    shutdownTimeout: z.number().min(0).max(86_400).optional(),
};

/** What an extension adds to the config schema. */
export interface SchemaExtension {
  readonly engine?: z.ZodRawShape;
  readonly location?: z.ZodRawShape;
  /** Location keys that produce the response, besides content and proxyPass (at most one per location). */
  readonly contentKeys?: readonly string[];
}

/** The config schema with the keys of `extensions` added (unknown keys stay errors). */
export function buildConfigSchema(extensions: readonly SchemaExtension[] = []) {
  const engineExtra: z.ZodRawShape = {};
  const locationExtra: z.ZodRawShape = {};
  const contentKeys = [...CONTENT_KEYS];
  for (const ext of extensions) {
    Object.assign(engineExtra, ext.engine);
    Object.assign(locationExtra, ext.location);
    contentKeys.push(...(ext.contentKeys ?? []));
  }
  const locations = extensions.length === 0 ? locationSchema : locationSchemaWith(locationExtra, contentKeys);
  const servers = z.array(z.object({ ...serverShape, locations: z.array(locations) }).strict());
  return z.object({ ...engineShape, ...engineExtra, locations: z.array(locations), servers: servers.optional() }).strict();
}

export const engineConfigSchema = buildConfigSchema();

export type EngineConfig = z.input<typeof engineConfigSchema>;
/** A config after validation (defaults applied). */
export type ParsedConfig = z.output<typeof engineConfigSchema>;
export type LocationConfig = z.input<typeof locationSchema>;
export type HandlerSpec = z.input<typeof handlerSpecSchema>;
export type SetSpec = z.input<typeof setSpecSchema>;

/** `locations[2].match` from zod's path array. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out;
}

/** Validates a config (with `schema`, default the core one); throws ConfigError listing every problem with its path. */
export function parseConfig(input: unknown, schema: z.ZodType<z.output<typeof engineConfigSchema>> = engineConfigSchema): z.output<typeof engineConfigSchema> {
  const reserved = reservedKeyIssues(input);
  const result = schema.safeParse(input);
  if (result.success) {
    const issues = [...reserved, ...crossIssues(result.data)];
    if (issues.length === 0) return result.data;
    throw new ConfigError(issues);
  }
  const issues: ConfigIssue[] = [...reserved, ...result.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message }))];
  throw new ConfigError(issues, { cause: result.error });
}
