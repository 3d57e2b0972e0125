// The one place a request begins and the one place it ends, whatever its kind: events,
// temp-file cleanup and the release of what script runtimes kept happen only here.

import { unlink } from 'node:fs/promises';
import type { EngineCore } from '../engine/engine-core.js';
import { channels, type EngineEvents } from '../events.js';
import type { HttpExchange } from '../http/exchange.js';
import type { Phase } from '../phases/facts.js';
import { REQUEST_KINDS, RequestState, STEP_DONE, type CompiledLocation, type Generation, type RequestKind } from './state.js';
import { CpuBudget } from './cpu-budget.js';
import { unwatchClientAbort } from '../phases/client-abort.js';
import { closeScope } from '../socket/index.js';

export interface OpenSpec {
  readonly kind: RequestKind;
  readonly exchange: HttpExchange;
  readonly location: CompiledLocation;
  /** Normalized path (`$uri`). */
  readonly uri: string;
  /** Query string without `?`. */
  readonly args: string;
  readonly captures?: RegExpExecArray | undefined;
  /** A subrequest's parent. */
  readonly parent?: RequestState;
  /** The virtual host (default: a subrequest's parent's, else the first server). */
  readonly server?: RequestState['server'];
  /** The phase a detached or single run starts in. */
  readonly phase?: Phase;
}

/** Opens a request of any kind on `gen`: ids, variables, tracking and request:start. */
export function openRequest(engine: EngineCore, gen: Generation, spec: OpenSpec): RequestState {
  const { kind, parent } = spec;
  const id = kind === 'detached' ? 0 : parent !== undefined ? parent.id : engine.nextRequestId();
  const s = new RequestState(engine, gen, spec.exchange, kind, id, spec.location, spec.uri, spec.args, spec.captures, spec.server ?? parent?.server);
  const facts = REQUEST_KINDS[kind];
  if (parent !== undefined) {
    s.parent = parent;
    s.depth = parent.depth + 1;
    s.cpu = parent.cpu;
  } else if (kind !== 'detached') {
    const budget = engine.requestCpuBudgetMs;
    if (budget > 0) s.cpu = new CpuBudget(budget);
  }
  if (spec.phase !== undefined) s.phase = spec.phase;
  s.step = facts.first;
  if (kind !== 'detached') {
    s.tracePhases = engine.events.listenerCount('phase:start') + engine.events.listenerCount('phase:end') > 0 || channels['phase:start'].hasSubscribers || channels['phase:end'].hasSubscribers;
  }
  if (facts.tracked) gen.requests.add(s);
  if (facts.events && observed(engine, 'request:start')) {
    emit(engine, 'request:start', { id, method: s.method, uri: s.uri, location: s.location.name });
  }
  return s;
}

/**
 * Closes a request: script runtimes drop what they kept for it, a request-body temp file is
 * deleted, its generation stops counting it, request:end is emitted. Runs once; later calls do nothing.
 */
export function closeRequest(s: RequestState): void {
  if (s.closed) return;
  s.closed = true;
  s.step = STEP_DONE;
  for (const rt of s.gen.runtimes) rt.requestDone?.(s.ngx);
  unwatchClientAbort(s);
  if (s.sockets !== undefined) closeScope(s.sockets);
  if (s.bodyFile !== undefined) {
    unlink(s.bodyFile).catch(() => undefined);
    s.bodyFile = undefined;
  }
  const facts = REQUEST_KINDS[s.kind];
  if (facts.tracked) {
    const gen = s.gen;
    gen.requests.delete(s);
    if (gen.requests.size === 0) gen.drained?.();
  }
  if (facts.events && observed(s.engine, 'request:end')) {
    if (s.endTime === 0) s.endTime = s.engine.clock.now();
    emit(s.engine, 'request:end', {
      id: s.id, method: s.method, uri: s.uri, location: s.location.name, status: s.status,
      requestTime: (s.endTime - s.start) / 1000,
    });
  }
  s.onDone?.();
}

/** Whether anyone listens to `event`, on the engine or its diagnostics channel. */
export function observed(engine: EngineCore, event: keyof typeof channels): boolean {
  return engine.events.listenerCount(event) > 0 || channels[event].hasSubscribers;
}

/** Emits `event` on the engine and publishes it on its diagnostics channel. */
export function emit<E extends keyof typeof channels>(engine: EngineCore, event: E, info: Parameters<EngineEvents[E]>[0]): void {
  (engine.events.emit as (e: E, i: typeof info) => boolean)(event, info);
  if (channels[event].hasSubscribers) channels[event].publish(info);
}
