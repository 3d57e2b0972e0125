// The main and http levels of an nginx.conf → the engine config's top level, with its servers.

import type { HandlerSpec } from '@phasekit/core';
import { argv, checkDirective, fail, type IgnoredDirective } from './check.js';
import { applyInherited, type MapState } from './map-location.js';
import { luaPhaseOf, luaSpec } from './map-lua.js';
import { mapServer, type MappedServer } from './map-server.js';
import { mapUpstream } from './map-upstream.js';
import { NGINX_TYPES } from '../modules/static.js';
import type { Directive } from './parser.js';
import { OwnLists, type Scope } from './scope.js';

const LOG_LEVELS = new Set(['debug', 'info', 'notice', 'warn', 'error', 'crit', 'alert', 'emerg']);

/** What the main and http levels say, before it is assembled into an engine config. */
export interface MappedHttp {
  top: Record<string, unknown>;
  servers: MappedServer[];
  errorLog: { path: string; level: string } | undefined;
  workers: number | 'auto' | undefined;
  ignored: IgnoredDirective[];
}

export function mapMain(directives: readonly Directive[], prefix: string): MappedHttp {
  const ignored = new Map<string, IgnoredDirective>();
  const state: MapState = { ignored, bodySizes: [], types: {}, httpSsl: {} };
  const out: MappedHttp = { top: {}, servers: [], errorLog: undefined, workers: undefined, ignored: [] };
  const env: string[] = [];
  let http: Directive | undefined;
  for (const d of directives) {
    if (!checkDirective(d, 'main', ignored)) continue;
    const args = argv(d);
    switch (d.name) {
      case 'events':
        // Everything nginx allows in events is ignored; anything else is an error.
        for (const e of d.block ?? []) if (checkDirective(e, 'events', ignored)) fail(e, `"${e.name}" directive is not allowed here`);
        break;
      case 'http':
        if (http !== undefined) fail(d, '"http" directive is duplicate');
        http = d;
        break;
      case 'worker_processes':
        if (args[0] !== 'auto' && !/^\d+$/.test(args[0] as string)) fail(d, `invalid value "${args[0]}" in "worker_processes" directive`);
        out.workers = args[0] === 'auto' ? 'auto' : Number(args[0]);
        break;
      case 'error_log':
        out.errorLog = errorLog(d, args);
        break;
      case 'env':
        env.push(args[0] as string);
        break;
      default:
        fail(d, `"${d.name}" directive is not allowed here`);
    }
  }
  if (env.length > 0) out.top.lua = { env };
  if (http !== undefined) mapHttp(http, prefix, state, out);
  if (out.errorLog !== undefined) out.top.errorLogLevel = out.errorLog.level;
  out.ignored = [...ignored.values()];
  return out;
}

function errorLog(d: Directive, args: string[]): { path: string; level: string } {
  const [path, level = 'error'] = args as [string, string | undefined];
  if (!LOG_LEVELS.has(level)) fail(d, `invalid log level "${level}"`);
  if (path.startsWith('syslog:') || path.startsWith('memory:')) fail(d, `error_log "${path}" is not supported by phasekit`);
  return { path, level };
}

function mapHttp(http: Directive, prefix: string, state: MapState, out: MappedHttp): void {
  const top = out.top;
  const lua = (top.lua ??= {}) as Record<string, unknown>;
  const scope: Scope = { proxy: {}, handlers: {} };
  const own = new OwnLists();
  // names come from the conf (a dict may be called "constructor"): records without a prototype
  const dicts = Object.create(null) as Record<string, string>;
  const upstreams = Object.create(null) as Record<string, unknown>;
  const logFormats = Object.create(null) as Record<string, string>;
  const servers: Directive[] = [];
  let sslCertificate: HandlerSpec | undefined;
  for (const d of http.block ?? []) {
    if (!checkDirective(d, 'http', state.ignored)) continue;
    if (applyInherited(d, scope, own, state)) continue;
    const args = argv(d);
    switch (d.name) {
      case 'server':
        servers.push(d);
        break;
      case 'upstream':
        if (upstreams[args[0] as string] !== undefined) fail(d, `duplicate upstream "${args[0]}"`);
        upstreams[args[0] as string] = mapUpstream(d, state.ignored);
        break;
      case 'lua_shared_dict':
        if (!/^\d+[kKmMgG]?$/.test(args[1] as string)) fail(d, `invalid lua shared dict size "${args[1]}"`);
        if (dicts[args[0] as string] !== undefined) fail(d, `lua_shared_dict "${args[0]}" is already defined`);
        dicts[args[0] as string] = args[1] as string;
        break;
      case 'lua_package_path':
        lua.packagePath = (args[0] as string).replace(/\$prefix/g, prefix.replace(/\/$/, ''));
        break;
      case 'lua_code_cache':
        lua.codeCache = args[0] === 'on';
        break;
      case 'lua_max_pending_timers':
      case 'lua_max_running_timers':
        if (!/^[1-9]\d*$/.test(args[0] as string)) fail(d, `invalid number "${args[0]}" in "${d.name}" directive`);
        top[d.name === 'lua_max_pending_timers' ? 'maxPendingTimers' : 'maxRunningTimers'] = Number(args[0]);
        break;
      case 'client_body_buffer_size':
        top.clientBodyBufferSize = args[0];
        break;
      case 'log_format':
        logFormat(d, args, logFormats);
        break;
      case 'error_log':
        out.errorLog = errorLog(d, args);
        break;
      case 'ssl_certificate':
        state.httpSsl.certificate = args[0];
        break;
      case 'ssl_certificate_key':
        state.httpSsl.certificateKey = args[0];
        break;
      default: {
        const phase = luaPhaseOf(d.name);
        if (phase === 'init' || phase === 'init_worker' || phase === 'exit_worker') {
          const k = phase === 'init' ? 'init' : phase === 'init_worker' ? 'initWorker' : 'exitWorker';
          if (top[k] !== undefined) fail(d, `"${d.name}" directive is duplicate`);
          top[k] = luaSpec(d);
        } else if (phase === 'ssl_certificate') sslCertificate = luaSpec(d);
        else fail(d, `"${d.name}" directive is not allowed here`);
      }
    }
  }
  for (const s of servers) {
    const server = mapServer(s, scope, state);
    server.sslCertificate ??= sslCertificate;
    out.servers.push(server);
  }
  if (Object.keys(dicts).length > 0) top.sharedDicts = dicts;
  if (Object.keys(upstreams).length > 0) top.upstreams = upstreams;
  if (Object.keys(logFormats).length > 0) top.logFormats = logFormats;
  // Responses are typed by the URI's extension from these (nginx's three when no `types` block is given).
  top.types = Object.keys(state.types).length > 0 ? state.types : NGINX_TYPES;
  if (scope.accessLog !== undefined) top.accessLog = scope.accessLog;
  // The engine reads bodies up to the largest limit; locations with a smaller one check it themselves.
  const sizes = [scope.clientMaxBodySize, ...state.bodySizes].filter((s): s is string => s !== undefined);
  if (sizes.length > 0) top.clientMaxBodySize = largest(sizes);
}

/** `log_format name [escape=default|json|none] 'part' 'part' ...;` */
function logFormat(d: Directive, args: string[], formats: Record<string, string>): void {
  const [name, ...rest] = args as [string, ...string[]];
  if (name === 'combined' || formats[name] !== undefined) fail(d, `duplicate "log_format" name "${name}"`);
  if (rest[0]?.startsWith('escape=')) {
    if (rest[0] !== 'escape=default') fail(d, `log_format ${rest[0]} is not supported by phasekit`);
    rest.shift();
  }
  if (rest.length === 0) fail(d, 'invalid number of arguments in "log_format" directive');
  formats[name] = rest.join('');
}

const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

function bytes(size: string): number {
  const m = /^(\d+)([kmg]?)$/i.exec(size) as RegExpExecArray;
  const n = Number(m[1]);
  // 0 is "no limit" in nginx.
  return n === 0 ? Number.MAX_SAFE_INTEGER : n * (UNITS[(m[2] as string).toLowerCase()] as number);
}

function largest(sizes: string[]): string | number {
  let best = sizes[0] as string;
  for (const s of sizes) if (bytes(s) > bytes(best)) best = s;
  return bytes(best) === Number.MAX_SAFE_INTEGER ? Number.MAX_SAFE_INTEGER : best;
}

export { bytes as sizeBytes };
