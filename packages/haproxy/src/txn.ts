// HAProxy's TXN and HTTP classes over the request's `ngx`, so the phase rules keep applying; scoped variables.

import { BadArgumentError, PHASE_BIT, phaseBitOf, type HeaderValue, type Ngx, type RequestControl } from '@phasekit/core';
import type { HaproxyRegistry } from './registry.js';
import { checkArity, runConverter, runFetch } from './sample.js';
import type { Txn, TxnHttp, TxnReply, VarValue } from './types.js';

/** What a transaction needs from its generation. */
export interface TxnHost {
  readonly registry: HaproxyRegistry;
  /** `proc.*` variables: one set per engine generation. */
  readonly procVars: Map<string, VarValue>;
  control(ngx: Ngx): RequestControl | undefined;
  /** Logs at an HAProxy level (0 emerg … 7 debug). */
  log(ngx: Ngx | undefined, level: number, message: string): void;
}

const SCOPES = new Set(['proc', 'sess', 'txn', 'req', 'res']);

interface VarName {
  readonly scope: string;
  /** As written: `txn.user`. */
  readonly key: string;
  /** The nginx variable it is mirrored to: `txn_user`. */
  readonly ngx: string;
}

/** `txn.user` → scope txn, `$txn_user`; HAProxy's syntax (scope, then letters, digits, `_` and `.`). */
export function parseVarName(name: unknown): VarName {
  const text = typeof name === 'string' ? name : '';
  const dot = text.indexOf('.');
  const scope = text.slice(0, dot);
  const rest = text.slice(dot + 1);
  if (dot === -1 || !SCOPES.has(scope) || !/^[A-Za-z0-9_.]+$/.test(rest)) {
    throw new BadArgumentError(`bad variable name "${String(name)}": expected scope.name with scope proc, sess, txn, req or res`);
  }
  return { scope, key: text, ngx: `${scope}_${rest.replace(/\./g, '_')}`.toLowerCase() };
}

function asList(v: HeaderValue | number | boolean | null | undefined): string[] {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? [...(v as string[])] : [String(v)];
}

/** `\1` … `\9` in `replace` are the groups of `m`; the whole value becomes the result, as HAProxy's replace-header does. */
function expand(replace: string, m: RegExpExecArray): string {
  return replace.replace(/\\([0-9\\])/g, (_, d: string) => (d === '\\' ? '\\' : (m[Number(d)] ?? '')));
}

function replaceEach(list: readonly string[], regex: string, replace: string): string[] {
  let re: RegExp;
  try {
    re = new RegExp(regex);
  } catch (err) {
    throw new BadArgumentError(`bad regex "${regex}": ${(err as Error).message}`, { cause: err });
  }
  return list.map((v) => {
    const m = re.exec(v);
    return m === null ? v : expand(replace, m);
  });
}

function validStatus(status: unknown): number {
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 100 || status > 999) throw new BadArgumentError(`bad status ${String(status)}`);
  return status;
}

class Http implements TxnHttp {
  readonly #ngx: Ngx;
  constructor(ngx: Ngx) {
    this.#ngx = ngx;
  }

  reqGetHeaders(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const [k, v] of Object.entries(this.#ngx.req.getHeaders(0))) out[k] = asList(v);
    return out;
  }

  resGetHeaders(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const [k, v] of Object.entries(this.#ngx.resp.getHeaders(0))) out[k.toLowerCase()] = asList(v);
    return out;
  }

  #reqValues(name: string): string[] {
    return asList(this.#ngx.req.getHeaders(0)[name.toLowerCase()]);
  }

  reqSetHeader(name: string, value: string): void {
    this.#ngx.req.setHeader(name, String(value));
  }

  reqAddHeader(name: string, value: string): void {
    const list = this.#reqValues(name);
    list.push(String(value));
    this.#ngx.req.setHeader(name, list.length === 1 ? list[0] : list);
  }

  reqDelHeader(name: string): void {
    this.#ngx.req.clearHeader(name);
  }

  reqRepHeader(name: string, regex: string, replace: string): void {
    const list = this.#reqValues(name);
    if (list.length === 0) return;
    const out = replaceEach(list, regex, replace);
    this.#ngx.req.setHeader(name, out.length === 1 ? out[0] : out);
  }

  resSetHeader(name: string, value: string): void {
    this.#ngx.header[name] = String(value);
  }

  resAddHeader(name: string, value: string): void {
    const list = asList(this.#ngx.header[name]);
    list.push(String(value));
    this.#ngx.header[name] = list.length === 1 ? list[0] : list;
  }

  resDelHeader(name: string): void {
    this.#ngx.header[name] = undefined;
  }

  resRepHeader(name: string, regex: string, replace: string): void {
    const list = asList(this.#ngx.header[name]);
    if (list.length === 0) return;
    const out = replaceEach(list, regex, replace);
    this.#ngx.header[name] = out.length === 1 ? out[0] : out;
  }

  reqSetMethod(method: string): void {
    this.#ngx.req.setMethod(String(method));
  }

  reqSetPath(path: string): void {
    this.#ngx.req.setUri(String(path));
  }

  reqSetQuery(query: string): void {
    const q = String(query);
    this.#ngx.req.setUriArgs(q.startsWith('?') ? q.slice(1) : q);
  }

  reqSetUri(uri: string): void {
    const u = String(uri);
    const q = u.indexOf('?');
    this.#ngx.req.setUri(q === -1 ? u : u.slice(0, q));
    this.#ngx.req.setUriArgs(q === -1 ? '' : u.slice(q + 1));
  }

  resSetStatus(status: number, _reason?: string): void {
    this.#ngx.status = validStatus(status);
  }
}

export class TxnImpl implements Txn {
  readonly ngx: Ngx;
  readonly #host: TxnHost;
  #http: TxnHttp | undefined;
  readonly #vars = new Map<string, VarValue>();
  /** done() was called: the remaining actions do not run. */
  ended = false;
  /** act.wake_time(ms): when a YIELDing action runs again. */
  wakeTime: number | undefined;

  constructor(host: TxnHost, ngx: Ngx) {
    this.#host = host;
    this.ngx = ngx;
  }

  get http(): TxnHttp {
    return (this.#http ??= new Http(this.ngx));
  }

  fetch(name: string, ...args: string[]): string | undefined {
    const entry = this.#host.registry.fetch(name);
    if (entry === undefined) throw new BadArgumentError(`unknown sample fetch "${name}"`);
    checkArity('sample fetch', entry, args.length);
    return runFetch(entry, this, args);
  }

  convert(name: string, value: string, ...args: string[]): string | undefined {
    const entry = this.#host.registry.converter(name);
    if (entry === undefined) throw new BadArgumentError(`unknown converter "${name}"`);
    checkArity('converter', entry, args.length);
    return runConverter(entry, String(value), args);
  }

  setVar(name: string, value: VarValue, ifExist = false): void {
    const v = parseVarName(name);
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      throw new BadArgumentError(`bad value for variable "${name}": a string, number or boolean`);
    }
    if (v.scope === 'proc') {
      if (!ifExist || this.#host.procVars.has(v.key)) this.#host.procVars.set(v.key, value);
      return;
    }
    const c = this.#host.control(this.ngx);
    if (ifExist && !this.#vars.has(v.key) && c?.hasVar(v.ngx) !== true) return;
    this.#vars.set(v.key, value);
    // Mirrored as an nginx variable, so ngx.var.txn_user (and $txn_user in templates) read it.
    c?.setVar(v.ngx, String(value));
  }

  getVar(name: string): VarValue | undefined {
    const v = parseVarName(name);
    if (v.scope === 'proc') return this.#host.procVars.get(v.key);
    const stored = this.#vars.get(v.key);
    const c = this.#host.control(this.ngx);
    if (c?.hasVar(v.ngx)) {
      // ngx.var may have changed it since: the nginx variable wins, typed when it still matches.
      const current = c.getVar(v.ngx);
      if (current === undefined) return undefined;
      return stored !== undefined && String(stored) === current ? stored : current;
    }
    return stored;
  }

  unsetVar(name: string): void {
    const v = parseVarName(name);
    if (v.scope === 'proc') {
      this.#host.procVars.delete(v.key);
      return;
    }
    this.#vars.delete(v.key);
    this.#host.control(this.ngx)?.unsetVar(v.ngx);
  }

  done(reply?: TxnReply): void {
    this.ended = true;
    const ngx = this.ngx;
    if (phaseBitOf(ngx) === PHASE_BIT.headerFilter) {
      if (reply === undefined) {
        // No reply: the connection closes (header_filter's abort path).
        const c = this.#host.control(ngx);
        if (c === undefined) throw new BadArgumentError('txn:done() without a reply cannot close this response');
        c.fail();
        return;
      }
      const status = validStatus(reply.status ?? 200);
      this.#replyHeaders(reply);
      // header_filter cannot replace the body: the status's page (or an empty body) goes out.
      ngx.exit(status);
      return;
    }
    if (reply === undefined) {
      ngx.exit(444);
      return;
    }
    const status = validStatus(reply.status ?? 200);
    ngx.status = status;
    this.#replyHeaders(reply);
    ngx.print(reply.body ?? '');
    ngx.exit(status);
  }

  #replyHeaders(reply: TxnReply): void {
    for (const [name, value] of Object.entries(reply.headers ?? {})) {
      this.ngx.header[name] = typeof value === 'string' ? value : value.length === 1 ? value[0] : [...value];
    }
  }

  log(level: number, message: string): void {
    this.#host.log(this.ngx, level, message);
  }
}
