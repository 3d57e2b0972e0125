// Where HAProxy's rules run: http-req actions before a location's access handler, http-res actions
// (and setHeaders) before its headerFilter, a service as its content handler. Act codes decided here.

import { ApiDisabledError, type Clock, type CompiledHandler, type Ngx, type RequestControl } from '@phasekit/core';
import type { AppletImpl } from './applet.js';
import type { ServiceEntry } from './registry.js';
import type { CompiledTemplate } from './sample.js';
import type { TxnImpl } from './txn.js';
import { ACT, type ActionFn } from './types.js';

/** One action of a location's list, with its config arguments. */
export interface CompiledRule {
  readonly name: string;
  readonly fn: ActionFn;
  readonly args: readonly string[];
}

export interface RulesHost {
  readonly clock: Clock;
  txn(ngx: Ngx): TxnImpl;
  applet(ngx: Ngx): AppletImpl;
  control(ngx: Ngx): RequestControl | undefined;
  /** Logs at an HAProxy level (0 emerg … 7 debug). */
  log(ngx: Ngx | undefined, level: number, message: string): void;
}

const NEXT = 0;
const STOP = 1;
const YIELD = 2;
/** Skip the rest of the list and the location's own handler. */
const SKIP = 3;

type Verdict = typeof NEXT | typeof STOP | typeof YIELD | typeof SKIP;

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

/** What an action's return (and what it did to the request) means for the rest of the list. */
function verdict(host: RulesHost, txn: TxnImpl, rule: CompiledRule, code: unknown, response: boolean): Verdict {
  if (txn.ended) return SKIP;
  const ngx = txn.ngx;
  const c = host.control(ngx);
  // The action ended the request itself (ngx.exit, ngx.exec, output in http-req).
  if (c !== undefined && (c.ended || (!response && c.headersSent))) return SKIP;
  if (typeof code !== 'number') return NEXT;
  switch (code) {
    case ACT.CONTINUE:
      return NEXT;
    case ACT.STOP:
      return STOP;
    case ACT.DONE:
      return SKIP;
    case ACT.YIELD:
      if (!response) return YIELD;
      host.log(ngx, 3, `action "${rule.name}" returned act.YIELD in http-res, which cannot wait`);
      ngx.exit(500);
      return SKIP;
    case ACT.DENY:
      ngx.exit(response ? 502 : 403);
      return SKIP;
    case ACT.ERROR:
      ngx.exit(500);
      return SKIP;
    case ACT.INVALID:
      ngx.exit(response ? 502 : 400);
      return SKIP;
    case ACT.ABORT:
      // Closes the connection: 444 in http-req; in header_filter the response is aborted.
      if (response && c !== undefined) c.fail();
      else ngx.exit(444);
      return SKIP;
    default:
      host.log(ngx, 3, `action "${rule.name}" returned an unknown code ${code}`);
      ngx.exit(500);
      return SKIP;
  }
}

interface ReqRun {
  readonly host: RulesHost;
  readonly ngx: Ngx;
  readonly txn: TxnImpl;
  readonly rules: readonly CompiledRule[];
  readonly own: CompiledHandler | undefined;
}

function runReq(r: ReqRun, from: number): unknown {
  for (let i = from; i < r.rules.length; i++) {
    const rule = r.rules[i] as CompiledRule;
    const result = rule.fn(r.txn, ...rule.args);
    if (isThenable(result)) return Promise.resolve(result).then((code) => resumeReq(r, i, code));
    const v = verdict(r.host, r.txn, rule, result, false);
    if (v !== NEXT) return afterReq(r, i, v);
  }
  return r.own?.(r.ngx);
}

function resumeReq(r: ReqRun, i: number, code: unknown): unknown {
  const v = verdict(r.host, r.txn, r.rules[i] as CompiledRule, code, false);
  return v === NEXT ? runReq(r, i + 1) : afterReq(r, i, v);
}

function afterReq(r: ReqRun, i: number, v: Verdict): unknown {
  if (v === STOP) return r.own?.(r.ngx);
  if (v === YIELD) return wake(r.host, r.txn).then(() => runReq(r, i));
  return undefined;
}

/** act.YIELD: the same action runs again after act:wake_time(ms), or on the next turn. */
function wake(host: RulesHost, txn: TxnImpl): Promise<void> {
  const ms = txn.wakeTime;
  txn.wakeTime = undefined;
  if (ms === undefined || ms <= 0) return new Promise((resolve) => setImmediate(resolve));
  return new Promise((resolve) => host.clock.schedule(resolve, ms));
}

/** The access handler of a location with http-req actions: the actions in order, then its own. */
export function httpReqHandler(host: RulesHost, rules: readonly CompiledRule[], own: CompiledHandler | undefined): CompiledHandler {
  return (ngx) => runReq({ host, ngx, txn: host.txn(ngx), rules, own }, 0);
}

/** The headerFilter of a location with setHeaders or http-res actions: those, then its own. Never waits. */
export function httpResHandler(
  host: RulesHost,
  setHeaders: readonly (readonly [string, CompiledTemplate])[],
  rules: readonly CompiledRule[],
  own: CompiledHandler | undefined,
): CompiledHandler {
  return (ngx) => {
    const txn = host.txn(ngx);
    for (const [name, template] of setHeaders) {
      const value = template(txn);
      // As nginx's add_header: an empty value sets nothing.
      if (value !== undefined && value !== '') ngx.header[name] = value;
    }
    for (const rule of rules) {
      const result = rule.fn(txn, ...rule.args);
      if (isThenable(result)) {
        Promise.resolve(result).catch(() => undefined);
        throw new ApiDisabledError(rule.name, `http-res action "${rule.name}" returned a promise: http-res actions run in header_filter, which cannot wait`);
      }
      const v = verdict(host, txn, rule, result, true);
      if (v === STOP) break;
      if (v !== NEXT) return undefined;
    }
    return own?.(ngx);
  };
}

/** The content handler of a location whose `service` is `entry`. */
export function serviceHandler(host: RulesHost, entry: ServiceEntry): CompiledHandler {
  return (ngx) => {
    const applet = host.applet(ngx);
    const result = entry.fn(applet);
    if (isThenable(result)) return Promise.resolve(result).then(() => applet.finish());
    applet.finish();
    return undefined;
  };
}
