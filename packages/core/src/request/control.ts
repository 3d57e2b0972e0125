// The narrow handle on a request that extensions get (engine/extension.ts): no RequestState outside core.

import type { RequestControl } from '../engine/extension.js';
import { outputError } from '../ngx/output.js';
import { NgxRequest } from '../ngx/request.js';
import type { Ngx } from '../ngx/types.js';
import type { CpuBudget } from './cpu-budget.js';
import type { RequestState } from './state.js';
import { isDeclared } from './vars.js';

/** The control handle of the request behind `ngx`, or undefined when `ngx` is not a phasekit request's. */
export function requestControl(ngx: Ngx): RequestControl | undefined {
  const s = NgxRequest.stateOf(ngx);
  return s === undefined ? undefined : new Control(s);
}

/**
 * Script runtimes: how to stop the handler running for `ngx` at once (a client that went away with no
 * ngx.on_abort handler, under checkClientAbort). `undefined` when it is no longer running.
 */
export function setTerminator(ngx: Ngx, terminate: (() => void) | undefined): void {
  const s = NgxRequest.stateOf(ngx);
  if (s !== undefined) s.terminate = terminate;
}

/**
 * Script runtimes: the CPU budget of the request behind `ngx` (shared with its subrequests), or
 * undefined when it has none (requestCpuBudgetMs 0, timers, init).
 */
export function requestCpuBudget(ngx: Ngx | undefined): CpuBudget | undefined {
  return ngx === undefined ? undefined : NgxRequest.stateOf(ngx)?.cpu;
}

class Control implements RequestControl {
  readonly #s: RequestState;

  constructor(s: RequestState) {
    this.#s = s;
  }

  get ended(): boolean {
    const s = this.#s;
    return s.exitCode !== undefined || s.exec !== undefined || s.failed;
  }

  get headersSent(): boolean {
    return this.#s.headersSent;
  }

  get outputError(): string | undefined {
    return outputError(this.#s);
  }

  fail(): void {
    this.#s.failed = true;
  }

  getVar(name: string): string | undefined {
    return this.#s.vars?.get(name);
  }

  hasVar(name: string): boolean {
    return this.#s.vars?.has(name) === true;
  }

  setVar(name: string, value: string): void {
    (this.#s.vars ??= new Map()).set(name, value);
  }

  unsetVar(name: string): void {
    const s = this.#s;
    if (s.vars?.has(name) !== true) return;
    if (isDeclared(s, name)) s.vars.set(name, undefined);
    else s.vars.delete(name);
  }
}
