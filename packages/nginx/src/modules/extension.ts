// nginx's own HTTP modules as an engine extension: the rewrite module (rules), add_header, static
// files (root/alias/index/try_files), error_page, access_log, per-location client_max_body_size,
// lua_need_request_body. nginx's variables are global: a name `set` anywhere exists everywhere.

import { resolve } from 'node:path';
import type { CompiledSetHandler, EngineExtension, ExtensionContext, ExtensionGeneration, HandlerFn, HandlerSpec, LocationCompile, Ngx } from '@phasekit/core';
import { parseTemplate } from '@phasekit/core';
import { compileLogFormat, COMBINED, LogSinks, type LogLine } from './access-log.js';
import { compileErrorPages } from './error-page.js';
import { headerFilter } from './headers.js';
import { compileRules, redirectUrl, runOps, type Op, type RunState } from './rules.js';
import { nginxConfigSchema, type AccessLogInput, type NginxEngineKeys, type NginxLocationKeys, type RuleInput } from './schema.js';
import { NGINX_TYPES, staticHandler, staticLocals, typeTable } from './static.js';
import { pcre, type Locals } from './template.js';

type LocationKeys = NginxLocationKeys & { match: string; proxyPass?: string; service?: string; defaultType?: string };

/** Per request: whether the server rules ran (a `rewrite ... last` searches the locations again without them). */
interface Carried {
  serverRulesDone: boolean;
}

const SIZE_UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

function sizeOf(v: string | number): number {
  if (typeof v === 'number') return v;
  const m = /^(\d+)([kmg]?)$/i.exec(v) as RegExpExecArray;
  return Number(m[1]) * (SIZE_UNITS[(m[2] as string).toLowerCase()] as number);
}

/** Every variable name a rule sets, in any location of any server. */
function globalNames(config: Readonly<Record<string, unknown>>): string[] {
  const names = new Set<string>();
  const walk = (rules: readonly RuleInput[] | undefined) => {
    for (const r of rules ?? []) {
      if (r.set !== undefined) names.add(r.set.toLowerCase());
      walk(r.then);
    }
  };
  const servers = [config, ...((config.servers as Record<string, unknown>[] | undefined) ?? [])];
  for (const s of servers) {
    for (const loc of (s.locations as LocationKeys[] | undefined) ?? []) {
      walk(loc.rules);
      walk(loc.serverRules);
    }
  }
  return [...names];
}

export class NginxExtension implements EngineExtension {
  readonly name = 'nginx';
  readonly configSchema = nginxConfigSchema;

  generation(ctx: ExtensionContext): ExtensionGeneration {
    const config = ctx.config as Readonly<Record<string, unknown>> & NginxEngineKeys;
    const prefix = resolve((config.lua as { prefix?: string } | undefined)?.prefix ?? process.cwd());
    const sinks = new LogSinks(prefix);
    const formats = new Map<string, LogLine>([['combined', compileLogFormat(COMBINED)]]);
    for (const [name, f] of Object.entries(config.logFormats ?? {})) formats.set(name, compileLogFormat(f));
    const types = typeTable(config.types ?? NGINX_TYPES);
    // Only a config that names its types has every response typed by the URI's extension (nginx.conf maps do).
    const typeAll = config.types !== undefined;
    const defaultType = (config.defaultType as string | undefined) ?? 'text/plain';
    const carried = new WeakMap<Ngx, Carried>();
    return {
      // every `set` rule's variable exists in every location, as in nginx (core keeps the values across a jump)
      variables: globalNames(config),
      compileLocation: (loc) => {
        compileLocation(loc, { ctx, prefix, sinks, formats, types, typeAll, defaultType, carried, defaultLog: config.accessLog });
      },
      stop: () => sinks.close(),
    };
  }
}

interface Shared {
  readonly ctx: ExtensionContext;
  readonly prefix: string;
  readonly sinks: LogSinks;
  readonly formats: ReadonlyMap<string, LogLine>;
  readonly types: ReadonlyMap<string, string>;
  readonly typeAll: boolean;
  readonly defaultType: string;
  readonly carried: WeakMap<Ngx, Carried>;
  readonly defaultLog: AccessLogInput | undefined;
}

function compileLocation(loc: LocationCompile, sh: Shared): void {
  const cfg = loc.config as unknown as LocationKeys;
  serverNameCaptures(loc, sh.ctx.config);
  const root = cfg.root === undefined ? undefined : resolve(sh.prefix, cfg.root);
  const alias = cfg.alias === undefined ? undefined : resolve(sh.prefix, cfg.alias) + (cfg.alias.endsWith('/') ? '/' : '');
  const locals: Locals = root !== undefined || alias !== undefined ? staticLocals({ root, alias, match: cfg.match }) : new Map();
  const toUrl = redirectUrl({ absolute: cfg.absoluteRedirect, port: cfg.portInRedirect });
  const compiler = {
    locals,
    redirectUrl: toUrl,
    compileSet: (spec: HandlerSpec, path: string): CompiledSetHandler => sh.ctx.compileSet(spec, { phase: 'set', location: loc.name, path }),
    issue: (path: string, message: string) => loc.issue(path, message),
  };
  const serverOps = compileRules(cfg.serverRules ?? [], `${loc.path}.serverRules`, compiler);
  let ops = compileRules(cfg.rules ?? [], `${loc.path}.rules`, compiler);
  if (serverOps.length === 0) {
    // Leading set / set_by_lua rules run in the set step (set_by_lua in its own phase), as core's `set` does.
    let n = 0;
    while (n < ops.length && (ops[n]?.kind === 'set' || ops[n]?.kind === 'setLua')) n++;
    for (const op of ops.slice(0, n)) loc.set.push(setEntry(op));
    ops = ops.slice(n);
  }
  const limit = cfg.clientMaxBodySize === undefined ? undefined : sizeOf(cfg.clientMaxBodySize);
  if (serverOps.length > 0 || ops.length > 0 || (limit !== undefined && limit > 0) || cfg.needRequestBody === true) {
    loc.rewrite = rewriteHandler(sh, serverOps, ops, limit, cfg.needRequestBody === true, loc.rewrite);
  }
  const servesFiles = loc.content === undefined && cfg.proxyPass === undefined && cfg.service === undefined && (root !== undefined || alias !== undefined);
  if (servesFiles) {
    loc.content = staticHandler({
      match: cfg.match,
      root,
      alias,
      index: cfg.index ?? ['index.html'],
      tryFiles: cfg.tryFiles,
      types: sh.types,
      logNotFound: cfg.logNotFound !== false,
      redirectUrl: toUrl,
      log: (ngx, message) => sh.ctx.log('error', message, ngx),
    });
  }
  loc.headerFilter = headerFilter(
    { types: sh.typeAll ? { table: sh.types, defaultType: cfg.defaultType ?? sh.defaultType } : undefined, staticFile: servesFiles, addHeaders: cfg.addHeaders, locals },
    loc.headerFilter,
  );
  const logs = cfg.accessLog ?? sh.defaultLog;
  if (logs !== undefined && logs !== false && logs.length > 0) loc.log = accessLogHandler(sh, logs, loc, loc.log);
  if (cfg.errorPages !== undefined && cfg.errorPages.length > 0) {
    try {
      loc.errorPage = compileErrorPages(cfg.errorPages);
    } catch (err) {
      loc.issue(`${loc.path}.errorPages`, (err as Error).message);
    }
  }
}

/** The server (top level or `servers[i]`) a location belongs to, from its path. */
function serverOf(loc: LocationCompile, config: Readonly<Record<string, unknown>>): Readonly<Record<string, unknown>> {
  const m = /^servers\[(\d+)\]/.exec(loc.path);
  return m === null ? config : ((config.servers as Record<string, unknown>[])[Number(m[1])] ?? config);
}

/** Named captures of the server's `~regex` names are variables (`server_name ~^(?<sub>.+)\.example\.com$` gives $sub). */
function serverNameCaptures(loc: LocationCompile, config: Readonly<Record<string, unknown>>): void {
  const names = serverOf(loc, config).serverName;
  const regexes = (typeof names === 'string' ? [names] : ((names as string[] | undefined) ?? [])).filter((n) => n.startsWith('~')).map((n) => pcre(n.slice(1), true));
  const groups = new Set<string>();
  for (const re of regexes) for (const m of re.source.matchAll(/\(\?<([A-Za-z_][A-Za-z0-9_]*)>/g)) groups.add(m[1] as string);
  if (groups.size === 0) return;
  const captured = (ngx: Ngx, name: string) => {
    const host = String(ngx.var.host ?? '');
    for (const re of regexes) {
      const m = re.exec(host);
      if (m !== null) return m.groups?.[name];
    }
    return undefined;
  };
  loc.set.unshift(...[...groups].map((name) => ({ var: name, args: [], fn: (ngx: Ngx) => captured(ngx, name) })));
}

/** A leading set rule as a set-step entry: `set $x ...` computes its template, set_by_lua runs its code. */
function setEntry(op: Op): LocationCompile['set'][number] {
  if (op.kind === 'set') return { var: op.name, args: [], fn: (ngx) => op.value(ngx) };
  // The engine expands the arguments (ngx.arg in the handler) as for core's own set handlers.
  const o = op as Extract<Op, { kind: 'setLua' }>;
  return { var: o.name, args: o.rawArgs.map(parseTemplate), fn: o.fn };
}

function rewriteHandler(sh: Shared, serverOps: readonly Op[], ops: readonly Op[], limit: number | undefined, readBody: boolean, inner: HandlerFn | undefined): HandlerFn {
  return (ngx) => {
    if (limit !== undefined && limit > 0) {
      const length = Number(ngx.var.http_content_length ?? 0);
      if (length > limit) {
        sh.ctx.log('error', `client intended to send too large body: ${length} bytes`, ngx);
        return ngx.exit(413);
      }
    }
    const st: RunState = { captures: undefined, uriChanged: false };
    const c = sh.carried.get(ngx);
    if (serverOps.length > 0 && c?.serverRulesDone !== true) {
      const out = runOps(serverOps, ngx, st);
      if (out === 'ended') return;
      if (st.uriChanged) return jump(sh, ngx);
    }
    if (c !== undefined) c.serverRulesDone = false;
    const out = runOps(ops, ngx, st);
    if (out === 'ended') return;
    if (out === 'jump' || (out === 'next' && st.uriChanged)) return jump(sh, ngx);
    if (readBody) return ngx.req.readBody().then(() => inner?.(ngx));
    return inner?.(ngx);
  };
}

/** Searches the locations again for the changed URI (nginx's `last`); the variables keep their values. */
function jump(sh: Shared, ngx: Ngx): void {
  const c: Carried = sh.carried.get(ngx) ?? { serverRulesDone: false };
  c.serverRulesDone = true;
  sh.carried.set(ngx, c);
  ngx.req.setUri(String(ngx.var.uri), true);
}

function accessLogHandler(sh: Shared, logs: readonly { path: string; format?: string | undefined }[], loc: LocationCompile, inner: HandlerFn | undefined): HandlerFn {
  const writers = logs.map((l) => {
    const format = sh.formats.get(l.format ?? 'combined');
    if (format === undefined) loc.issue(`${loc.path}.accessLog`, `unknown log format "${l.format}"`);
    let write: (line: string) => void = () => undefined;
    try {
      write = sh.sinks.writer(l.path);
    } catch (err) {
      loc.issue(`${loc.path}.accessLog`, (err as Error).message);
    }
    return { format: format ?? (() => ''), write };
  });
  return (ngx) => {
    for (const w of writers) w.write(w.format(ngx));
    return inner?.(ngx);
  };
}
