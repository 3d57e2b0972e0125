// The one phase runner: every handler of every phase (and of every kind of request) runs here.

import { CpuBudgetError, HandlerError } from '../errors.js';
import { BodyTooLargeError } from '../http/exchange.js';
import type { CompiledHandler } from '../engine/script-runtime.js';
import { emit } from '../request/lifecycle.js';
import type { RequestState } from '../request/state.js';
import { watchClientAbort } from './client-abort.js';
import { PHASE_FACTS, phaseMask, type Phase } from './facts.js';

export type Pending = PromiseLike<unknown> | undefined;

export function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

/**
 * Phases that do not start once the request's CPU budget is spent. Filters and log still run (on
 * nothing left: a Lua one is stopped at its first check), so the 500 page goes out and is logged.
 */
const BUDGET_GATED = phaseMask('set', 'rewrite', 'access', 'content', 'balancer');
/** Filters skipped for the 500 page of a request its budget stopped (they would be stopped at once: no page at all). */
const FILTERS = phaseMask('headerFilter', 'bodyFilter');

/**
 * Calls `handler` in `phase`, records a throw or rejection as the request's failure, and
 * returns a promise only when the handler was async (and the phase allows it).
 */
export function runHandler(s: RequestState, phase: Phase, handler: CompiledHandler): Pending {
  s.phase = phase;
  if (s.location.checkClientAbort === true) watchClientAbort(s, phase);
  if (s.tracePhases) emitPhase(s, 'phase:start');
  const cpu = s.cpu;
  let result: unknown;
  if (cpu === undefined) {
    try {
      result = handler(s.ngx);
    } catch (err) {
      handlerFailed(s, phase, err);
      return undefined;
    }
  } else {
    if (cpu.spent) {
      if ((s.phaseBit & BUDGET_GATED) !== 0) {
        handlerFailed(s, phase, new CpuBudgetError(cpu.message()));
        return undefined;
      }
      if ((s.phaseBit & FILTERS) !== 0 && (s.error?.cause as { code?: unknown } | undefined)?.code === 'PHASEKIT_ERR_CPU_BUDGET') return undefined;
    }
    cpu.enter();
    try {
      result = handler(s.ngx);
    } catch (err) {
      cpu.leave();
      handlerFailed(s, phase, err);
      return undefined;
    }
    cpu.leave();
    // Synchronous TypeScript cannot be interrupted: it is stopped once it returns.
    if (cpu.spent && !s.failed) return overBudget(s, phase, cpu.message(), result);
  }
  if (isThenable(result)) {
    if (!PHASE_FACTS[phase].async) {
      handlerFailed(s, phase, new Error(`attempt to yield in ${phase} handler: it must not be async`));
      // Whatever it settles to later is not the request's any more: never an unhandled rejection.
      result.then(undefined, (err: unknown) => s.engine.log('error', `${phase} handler rejected after the request went on: ${describe(err)}`, s, err));
      return undefined;
    }
    return result.then(
      (value) => {
        s.result = value;
        phaseEnd(s);
      },
      (err: unknown) => handlerFailed(s, phase, err),
    );
  }
  s.result = result;
  phaseEnd(s);
  return undefined;
}

function overBudget(s: RequestState, phase: Phase, message: string, result: unknown): Pending {
  handlerFailed(s, phase, new CpuBudgetError(message));
  if (isThenable(result)) result.then(undefined, (err: unknown) => s.engine.log('error', `${phase} handler rejected after the request went on: ${describe(err)}`, s, err));
  return undefined;
}

/** Records a handler's failure: logged with its stack, `handler:error` emitted, 413 for a body over the limit. */
export function handlerFailed(s: RequestState, phase: Phase, err: unknown): void {
  s.failed = true;
  if (err instanceof BodyTooLargeError || s.bodyTooLarge !== undefined) {
    s.exitCode = 413;
    s.failed = false;
    s.engine.log('error', (s.bodyTooLarge ?? (err as Error)).message, s);
    return;
  }
  const where = s.id === 0 ? `${phase} handler` : `${phase} handler of location "${s.location.name}"`;
  const wrapped = new HandlerError(phase, where, err);
  s.engine.log('error', failureLine(phase, err, wrapped), s, wrapped);
  s.error ??= wrapped;
  emit(s.engine, 'handler:error', { id: s.id, phase, location: s.location.name, error: err });
}

/**
 * The error-log line of a handler failure. A script error (one that carries its script's
 * `traceback`) is worded as lua-nginx-module words it: "lua entry thread aborted: runtime error:
 * MSG" where the handler ran as a thread, "failed to run <directive>: MSG" elsewhere, then the
 * traceback. A TypeScript error names the phase and location, then its stack.
 */
function failureLine(phase: Phase, err: unknown, wrapped: HandlerError): string {
  const traceback = (err as { traceback?: unknown } | null)?.traceback;
  if (err instanceof Error && typeof traceback === 'string') {
    const facts = PHASE_FACTS[phase];
    const head = phase === 'initWorker' ? `init_worker_by_lua error: ${err.message}` : facts.yields ? `lua entry thread aborted: runtime error: ${err.message}` : `failed to run ${facts.contextName}: ${err.message}`;
    const trace = traceback.startsWith(err.message) ? traceback.slice(err.message.length) : `\n${traceback}`;
    return head + trace;
  }
  return `${wrapped.message}${err instanceof Error && err.stack ? `\n${err.stack}` : ''}`;
}

function phaseEnd(s: RequestState): void {
  if (s.tracePhases) emitPhase(s, 'phase:end');
}

function emitPhase(s: RequestState, event: 'phase:start' | 'phase:end'): void {
  emit(s.engine, event, { id: s.id, phase: s.phase, location: s.location.name });
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
