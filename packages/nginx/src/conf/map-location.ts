// `location` blocks (and the `if` blocks and rewrite-module directives in them) → location configs.
// Nested locations are flattened, each with what it inherits.

import type { HandlerSpec } from '@phasekit/core';
import type { RuleInput } from '../modules/schema.js';
import { argv, checkDirective, fail, type IgnoredDirective } from './check.js';
import type { Context } from './directives.js';
import { luaPhaseOf, luaSpec, setRule } from './map-lua.js';
import type { Directive } from './parser.js';
import { childScope, OwnLists, parseTime, type InheritedPhase, type Scope } from './scope.js';

/** A location as the mapping emits it: core's keys and the nginx extension's. */
export type MappedLocation = Record<string, unknown> & { match: string };

export interface MapState {
  readonly ignored: Map<string, IgnoredDirective>;
  /** Sizes of client_max_body_size seen in locations (the engine's limit is the largest). */
  readonly bodySizes: string[];
  /** MIME types from `types` blocks. */
  readonly types: Record<string, string[]>;
  /** ssl_certificate and ssl_certificate_key of the http level (servers inherit them). */
  readonly httpSsl: { certificate?: string; certificateKey?: string };
}

const PHASE_KEYS: Readonly<Record<string, InheritedPhase | 'content'>> = {
  rewrite: 'rewrite',
  access: 'access',
  content: 'content',
  header_filter: 'headerFilter',
  body_filter: 'bodyFilter',
  log: 'log',
};

/** `rewrite`, `return`, `set`, `break`, `if`, `set_by_lua*`: a rule, or undefined for other directives. */
export function ruleOf(d: Directive, context: Context, state: MapState): RuleInput | undefined {
  const args = argv(d);
  switch (d.name) {
    case 'set': {
      const [name, value] = args as [string, string];
      if (!name.startsWith('$') || name.length < 2) fail(d, `invalid variable name "${name}"`);
      return { set: name.slice(1), value };
    }
    case 'break':
      return { break: true };
    case 'return':
      return returnRule(d, args);
    case 'rewrite':
      return rewriteRule(d, args);
    case 'if':
      return ifRule(d, args, state);
    default:
      if (d.name.startsWith('set_by_lua')) return setRule(d);
      void context;
      return undefined;
  }
}

function returnRule(d: Directive, args: string[]): RuleInput {
  const [first, text] = args as [string, string | undefined];
  if (/^\d+$/.test(first)) {
    const code = Number(first);
    if (code > 999) fail(d, `invalid return code "${first}"`);
    return text === undefined ? { return: code } : { return: code, text };
  }
  if (text !== undefined || !/^(https?:\/\/|\$scheme)/.test(first)) fail(d, `invalid return code "${first}"`);
  return { return: 302, text: first };
}

function rewriteRule(d: Directive, args: string[]): RuleInput {
  const [regex, replacement, flag] = args as [string, string, string | undefined];
  if (flag !== undefined && flag !== 'last' && flag !== 'break' && flag !== 'redirect' && flag !== 'permanent') fail(d, `invalid parameter "${flag}"`);
  try {
    new RegExp(regex.replace(/\(\?P</g, '(?<'));
  } catch (err) {
    fail(d, `pcre_compile() failed: ${(err as Error).message} in "${regex}"`);
  }
  return flag === undefined ? { rewrite: regex, replacement } : { rewrite: regex, replacement, flag };
}

/** `if (cond) { ... }`: the words between the parentheses, and the rewrite-module directives inside. */
function ifRule(d: Directive, args: string[], state: MapState): RuleInput {
  const words = [...args];
  const first = words[0] as string;
  const last = words[words.length - 1] as string;
  if (!first.startsWith('(') || !last.endsWith(')')) fail(d, 'invalid condition: expected "(" ... ")"');
  words[0] = first.slice(1);
  words[words.length - 1] = (words[words.length - 1] as string).slice(0, -1);
  const cond = words.filter((w, i) => w !== '' || d.args[i]?.quoted === true);
  if (cond.length === 0 || cond.length > 3) fail(d, 'invalid condition');
  const then: RuleInput[] = [];
  for (const c of d.block ?? []) {
    if (!checkDirective(c, 'if', state.ignored)) continue;
    const rule = ruleOf(c, 'if', state);
    if (rule === undefined) fail(c, `"${c.name}" inside "if" is not supported by phasekit (only set, rewrite, return, break and set_by_lua)`);
    then.push(rule);
  }
  return { if: cond, then };
}

/** Applies an inheritable directive to `scope`; false when `d` is not one. */
export function applyInherited(d: Directive, scope: Scope, own: OwnLists, state: MapState): boolean {
  const args = argv(d);
  const phase = luaPhaseOf(d.name);
  if (phase !== undefined && phase !== 'content' && PHASE_KEYS[phase] !== undefined) {
    scope.handlers[PHASE_KEYS[phase] as InheritedPhase] = luaSpec(d);
    return true;
  }
  switch (d.name) {
    case 'default_type':
      scope.defaultType = args[0];
      return true;
    case 'root':
      scope.root = args[0];
      return true;
    case 'index':
      scope.index = args;
      return true;
    case 'add_header': {
      const [name, value, always] = args as [string, string, string | undefined];
      if (always !== undefined && always !== 'always') fail(d, `invalid parameter "${always}"`);
      own.list('addHeaders', scope.addHeaders, (v) => (scope.addHeaders = v)).push(always === undefined ? { name, value } : { name, value, always: true });
      return true;
    }
    case 'error_page':
      own.list('errorPages', scope.errorPages, (v) => (scope.errorPages = v)).push(errorPage(d, args));
      return true;
    case 'access_log':
      accessLog(d, args, scope, own);
      return true;
    case 'client_max_body_size':
      scope.clientMaxBodySize = sizeArg(d, args[0] as string);
      state.bodySizes.push(scope.clientMaxBodySize);
      return true;
    case 'lua_need_request_body':
      scope.needRequestBody = onOff(d, args[0] as string);
      return true;
    case 'lua_check_client_abort':
      scope.checkClientAbort = onOff(d, args[0] as string);
      return true;
    case 'log_not_found':
      scope.logNotFound = onOff(d, args[0] as string);
      return true;
    case 'absolute_redirect':
      scope.absoluteRedirect = onOff(d, args[0] as string);
      return true;
    case 'port_in_redirect':
      scope.portInRedirect = onOff(d, args[0] as string);
      return true;
    case 'proxy_set_header': {
      const list = own.list('proxySetHeaders', scope.proxy.setHeaders, (v) => (scope.proxy.setHeaders = v));
      list.push([args[0] as string, args[1] as string]);
      return true;
    }
    case 'proxy_connect_timeout':
    case 'proxy_send_timeout':
    case 'proxy_read_timeout': {
      const t = parseTime(args[0] as string);
      if (t === undefined || t <= 0) fail(d, `"${d.name}" directive invalid value`);
      const key = d.name === 'proxy_connect_timeout' ? 'connectTimeout' : d.name === 'proxy_send_timeout' ? 'sendTimeout' : 'readTimeout';
      scope.proxy[key] = t;
      return true;
    }
    case 'proxy_next_upstream':
      scope.proxy.nextUpstream = nextUpstream(d, args);
      return true;
    case 'proxy_next_upstream_tries':
      if (!/^\d+$/.test(args[0] as string)) fail(d, `"${d.name}" directive invalid value`);
      scope.proxy.nextUpstreamTries = Number(args[0]);
      return true;
    case 'types':
      mapTypes(d, state);
      return true;
    default:
      return false;
  }
}

const NEXT_UPSTREAM = new Set(['error', 'timeout', 'invalid_header', 'http_500', 'http_502', 'http_503', 'http_504', 'http_403', 'http_404', 'http_429', 'off']);

function nextUpstream(d: Directive, args: string[]): string[] {
  for (const a of args) {
    if (a === 'non_idempotent') fail(d, 'proxy_next_upstream non_idempotent is not supported by phasekit');
    if (!NEXT_UPSTREAM.has(a)) fail(d, `invalid value "${a}"`);
  }
  return args;
}

function mapTypes(d: Directive, state: MapState): void {
  for (const t of d.block ?? []) {
    if (t.block !== undefined || t.lua !== undefined || t.args.length === 0) fail(t, 'invalid "types" entry');
    const list = (state.types[t.name] ??= []);
    list.push(...argv(t));
  }
}

function errorPage(d: Directive, args: string[]): { codes: number[]; target: string; status?: number | 'target' } {
  const target = args[args.length - 1] as string;
  const codes: number[] = [];
  let status: number | 'target' | undefined;
  for (const a of args.slice(0, -1)) {
    if (a.startsWith('=')) {
      status = a === '=' ? 'target' : Number(a.slice(1));
      if (status !== 'target' && !Number.isInteger(status)) fail(d, `invalid value "${a}"`);
      continue;
    }
    const code = Number(a);
    if (!/^\d+$/.test(a) || code < 300 || code > 599) fail(d, `value "${a}" must be between 300 and 599`);
    codes.push(code);
  }
  if (codes.length === 0) fail(d, 'invalid number of arguments in "error_page" directive');
  return status === undefined ? { codes, target } : { codes, target, status };
}

function accessLog(d: Directive, args: string[], scope: Scope, own: OwnLists): void {
  const [path, format, ...params] = args as [string, string | undefined, ...string[]];
  if (path === 'off') {
    if (args.length > 1) fail(d, 'invalid parameter');
    scope.accessLog = false;
    own.list('accessLog', undefined, () => undefined);
    return;
  }
  for (const p of params) if (!/^(buffer|flush|gzip|if)=|^gzip$/.test(p)) fail(d, `invalid parameter "${p}"`);
  if (params.some((p) => p.startsWith('if='))) fail(d, 'access_log if= is not supported by phasekit');
  const current = scope.accessLog === false ? undefined : scope.accessLog;
  own.list('accessLog', current, (v) => (scope.accessLog = v)).push(format === undefined ? { path } : { path, format });
}

function onOff(d: Directive, v: string): boolean {
  if (v !== 'on' && v !== 'off') fail(d, `invalid value "${v}" in "${d.name}" directive, it must be "on" or "off"`);
  return v === 'on';
}

function sizeArg(d: Directive, v: string): string {
  if (!/^\d+[kKmMgG]?$/.test(v)) fail(d, `"${d.name}" directive invalid value`);
  return v;
}

/** One `location` (and the ones nested in it), flattened into `out` after its parent. */
export function mapLocation(d: Directive, parent: Scope, serverRules: RuleInput[], state: MapState, out: MappedLocation[], outer?: string): void {
  const args = argv(d);
  const match = args.join(' ');
  if (outer !== undefined) {
    if (match.startsWith('@')) fail(d, `named location "${match}" can be on the server level only`);
    if (outer.startsWith('=')) fail(d, `location "${match}" cannot be inside the exact location "${outer}"`);
  }
  const scope = childScope(parent);
  const own = new OwnLists();
  const rules: RuleInput[] = [];
  const nested: Directive[] = [];
  const loc: MappedLocation = { match };
  let content: HandlerSpec | undefined;
  for (const c of d.block ?? []) {
    if (!checkDirective(c, 'location', state.ignored)) continue;
    const rule = ruleOf(c, 'location', state);
    if (rule !== undefined) {
      rules.push(rule);
      continue;
    }
    if (applyInherited(c, scope, own, state)) continue;
    const cargs = argv(c);
    switch (c.name) {
      case 'location':
        nested.push(c);
        break;
      case 'internal':
        loc.internal = true;
        break;
      case 'proxy_pass':
        loc.proxyPass = cargs[0];
        break;
      case 'alias':
        loc.alias = cargs[0];
        break;
      case 'try_files':
        loc.tryFiles = cargs;
        break;
      case 'lua_code_cache':
      case 'error_log':
      case 'client_body_buffer_size':
        noteLevel(c, state);
        break;
      default:
        if (luaPhaseOf(c.name) === 'content') content = luaSpec(c);
        else fail(c, `"${c.name}" directive is not allowed here`);
    }
  }
  if (content !== undefined && loc.proxyPass !== undefined) fail(d, 'a location has one of content_by_lua* or proxy_pass, not both');
  if (loc.tryFiles !== undefined && (content !== undefined || loc.proxyPass !== undefined)) fail(d, 'try_files beside content_by_lua* or proxy_pass is not supported by phasekit');
  finishLocation(loc, scope, serverRules, rules, content);
  out.push(loc);
  for (const n of nested) mapLocation(n, scope, serverRules, state, out, match);
}

/** Notes a directive phasekit honours only at the http level, once. */
function noteLevel(c: Directive, state: MapState): void {
  if (!state.ignored.has(`${c.name} (below http)`)) state.ignored.set(`${c.name} (below http)`, { name: c.name, file: c.file, line: c.line, note: 'phasekit applies the http-level value to every location' });
}

/** Writes the location's keys from its scope and its own directives. */
export function finishLocation(loc: MappedLocation, scope: Scope, serverRules: RuleInput[], rules: RuleInput[], content: HandlerSpec | undefined): void {
  if (serverRules.length > 0) loc.serverRules = serverRules;
  if (rules.length > 0) loc.rules = rules;
  for (const [k, v] of Object.entries(scope.handlers)) if (v !== undefined) loc[k] = v;
  if (content !== undefined) loc.content = content;
  if (scope.defaultType !== undefined) loc.defaultType = scope.defaultType;
  if (content === undefined && loc.proxyPass === undefined && loc.alias === undefined) loc.root = scope.root ?? 'html';
  else if (scope.root !== undefined && loc.alias === undefined) loc.root = scope.root;
  if (scope.index !== undefined) loc.index = scope.index;
  if (scope.addHeaders !== undefined && scope.addHeaders.length > 0) loc.addHeaders = scope.addHeaders;
  if (scope.errorPages !== undefined && scope.errorPages.length > 0) loc.errorPages = scope.errorPages;
  if (scope.accessLog !== undefined) loc.accessLog = scope.accessLog;
  if (scope.clientMaxBodySize !== undefined) loc.clientMaxBodySize = scope.clientMaxBodySize;
  if (scope.needRequestBody === true) loc.needRequestBody = true;
  if (scope.checkClientAbort === true) loc.checkClientAbort = true;
  if (scope.logNotFound === false) loc.logNotFound = false;
  if (scope.absoluteRedirect === false) loc.absoluteRedirect = false;
  if (scope.portInRedirect === false) loc.portInRedirect = false;
  if (loc.proxyPass !== undefined) {
    const p = scope.proxy;
    const proxy: Record<string, unknown> = {};
    if (p.setHeaders !== undefined) proxy.setHeaders = Object.fromEntries(p.setHeaders);
    for (const k of ['connectTimeout', 'sendTimeout', 'readTimeout', 'nextUpstream', 'nextUpstreamTries'] as const) if (p[k] !== undefined) proxy[k] = p[k];
    if (Object.keys(proxy).length > 0) loc.proxy = proxy;
  }
}
