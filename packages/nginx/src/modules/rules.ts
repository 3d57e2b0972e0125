// nginx's rewrite module as rules run in order: set, set_by_lua, rewrite (last, break, redirect,
// permanent), return, if, break — with nginx's rules for arguments, redirects and captures.

import type { CompiledSetHandler, HandlerSpec, Ngx } from '@phasekit/core';
import { compileCondition, type Condition } from './condition.js';
import type { RuleInput } from './schema.js';
import { compileTemplate, pcre, type Captures, type Expand, type Locals } from './template.js';

export type Op =
  | { readonly kind: 'set'; readonly name: string; readonly value: Expand }
  | { readonly kind: 'setLua'; readonly name: string; readonly fn: CompiledSetHandler; readonly args: readonly Expand[]; readonly rawArgs: readonly string[] }
  | { readonly kind: 'rewrite'; readonly re: RegExp; readonly replacement: Expand; readonly url: boolean; readonly flag: RuleInput['flag']; readonly redirectUrl: RedirectUrl }
  | { readonly kind: 'return'; readonly code: number; readonly text: Expand | undefined; readonly redirectUrl: RedirectUrl }
  | { readonly kind: 'if'; readonly cond: Condition; readonly then: readonly Op[] }
  | { readonly kind: 'break' };

/** A redirect's Location for a path: absolute as nginx makes it (absolute_redirect, port_in_redirect). */
export type RedirectUrl = (ngx: Ngx, path: string) => string;

export interface RuleCompiler {
  readonly locals: Locals;
  readonly redirectUrl: RedirectUrl;
  /** Compiles set_by_lua's code (`path` names it in errors). */
  compileSet(spec: HandlerSpec, path: string): CompiledSetHandler;
  /** Reports a bad rule at `path`. */
  issue(path: string, message: string): void;
}

export function compileRules(rules: readonly RuleInput[], at: string, c: RuleCompiler): Op[] {
  const ops: Op[] = [];
  rules.forEach((r, i) => {
    const path = `${at}[${i}]`;
    try {
      ops.push(compileRule(r, path, c));
    } catch (err) {
      c.issue(path, (err as Error).message);
    }
  });
  return ops;
}

function compileRule(r: RuleInput, path: string, c: RuleCompiler): Op {
  const t = (text: string) => compileTemplate(text, c.locals);
  if (r.set !== undefined) {
    const name = r.set.toLowerCase();
    if (r.value !== undefined) return { kind: 'set', name, value: t(r.value) };
    const spec = (r.lua !== undefined ? { lua: r.lua } : { luaFile: r.luaFile as string }) as HandlerSpec;
    return { kind: 'setLua', name, fn: c.compileSet(spec, path), args: (r.args ?? []).map(t), rawArgs: r.args ?? [] };
  }
  if (r.rewrite !== undefined) {
    let re: RegExp;
    try {
      re = pcre(r.rewrite);
    } catch (err) {
      throw new Error(`pcre_compile() failed: ${(err as Error).message} in "${r.rewrite}"`, { cause: err });
    }
    const replacement = r.replacement as string;
    return { kind: 'rewrite', re, replacement: t(replacement), url: /^(https?:\/\/|\$scheme)/.test(replacement), flag: r.flag, redirectUrl: c.redirectUrl };
  }
  if (r.return !== undefined) return { kind: 'return', code: r.return, text: r.text === undefined ? undefined : t(r.text), redirectUrl: c.redirectUrl };
  if (r.if !== undefined) return { kind: 'if', cond: compileCondition(r.if, c.locals), then: compileRules(r.then ?? [], `${path}.then`, c) };
  return { kind: 'break' };
}

/** `next`: go on; `break`: the rules stop, the location stays; `jump`: search the location again; `ended`: the request answers. */
export type Outcome = 'next' | 'break' | 'jump' | 'ended';

export interface RunState {
  captures: Captures;
  uriChanged: boolean;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** Runs rules in order until one stops them. */
export function runOps(ops: readonly Op[], ngx: Ngx, st: RunState): Outcome {
  for (const op of ops) {
    switch (op.kind) {
      case 'set':
        ngx.var[op.name] = op.value(ngx, st.captures);
        break;
      case 'setLua': {
        const value = op.fn(ngx, ...op.args.map((a) => a(ngx, st.captures)));
        ngx.var[op.name] = value === null || value === undefined ? undefined : String(value);
        break;
      }
      case 'rewrite': {
        const out = rewrite(op, ngx, st);
        if (out !== 'next') return out;
        break;
      }
      case 'return':
        answer(op, op.text?.(ngx, st.captures), ngx);
        return 'ended';
      case 'if': {
        const r = op.cond(ngx, st.captures);
        if (r.captures !== undefined) st.captures = r.captures;
        if (r.holds) {
          const out = runOps(op.then, ngx, st);
          if (out !== 'next') return out;
        }
        break;
      }
      case 'break':
        return 'break';
    }
  }
  return 'next';
}

function rewrite(op: Extract<Op, { kind: 'rewrite' }>, ngx: Ngx, st: RunState): Outcome {
  const m = op.re.exec(String(ngx.var.uri ?? ''));
  if (m === null) return 'next';
  st.captures = [...m];
  const result = op.replacement(ngx, st.captures);
  const q = result.indexOf('?');
  const path = q === -1 ? result : result.slice(0, q);
  const original = String(ngx.var.args ?? '');
  let args = original;
  if (q !== -1) {
    // "...?" drops the request's arguments; "...?a=1" puts the new ones first.
    args = result.endsWith('?') ? result.slice(q + 1, -1) : original === '' ? result.slice(q + 1) : `${result.slice(q + 1)}&${original}`;
  }
  if (op.url || op.flag === 'redirect' || op.flag === 'permanent') {
    const location = args === '' ? path : `${path}?${args}`;
    ngx.redirect(op.url ? location : op.redirectUrl(ngx, location), op.flag === 'permanent' ? 301 : 302);
    return 'ended';
  }
  ngx.req.setUri(path);
  if (args !== original) ngx.req.setUriArgs(args);
  st.uriChanged = true;
  if (op.flag === 'last') return 'jump';
  if (op.flag === 'break') return 'break';
  return 'next';
}

/** `return code [text|URL]`. */
function answer(op: Extract<Op, { kind: 'return' }>, text: string | undefined, ngx: Ngx): void {
  const code = op.code;
  if (text !== undefined && REDIRECTS.has(code)) {
    ngx.redirect(text.startsWith('/') ? op.redirectUrl(ngx, text) : text, code);
    return;
  }
  if (text !== undefined && code >= 200 && code !== 204 && code !== 444) {
    ngx.status = code;
    ngx.print(text);
  }
  ngx.exit(code);
}

/**
 * A Location for a path as nginx makes it: absolute (scheme, the Host's name, the port unless it
 * is the scheme's own or port_in_redirect is off), or the path as it is with absolute_redirect off.
 */
export function redirectUrl(options: { absolute?: boolean | undefined; port?: boolean | undefined } = {}): RedirectUrl {
  if (options.absolute === false) return (_ngx, path) => path;
  const withPort = options.port !== false;
  return (ngx, path) => {
    const scheme = String(ngx.var.scheme ?? 'http');
    const port = String(ngx.var.server_port ?? '');
    const host = String(ngx.var.host ?? '');
    const defaultPort = scheme === 'https' ? '443' : '80';
    return `${scheme}://${host}${!withPort || port === defaultPort || port === '' ? '' : `:${port}`}${path}`;
  };
}
