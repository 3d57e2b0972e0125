// ngx.shared for TypeScript handlers: a dict whose calls wait (Redis) is handed out behind a guard
// that refuses it in the phases where a handler cannot wait (set, balancer, header_filter,
// body_filter), where its promise could never be awaited.

import { PhasekitError } from '../errors.js';
import { PHASE_CONTEXT_NAME, PHASE_FACTS, type Phase } from '../phases/facts.js';
import type { RequestState } from '../request/state.js';
import { isAsyncStore, type AnySharedDict, type AsyncSharedDictStore } from '../shared-dict/index.js';

/** The error for a waiting dict used where `phase` cannot wait (Lua gives the same text). */
export function waitingDictMessage(name: string, phase: Phase, runtime: 'lua' | 'ts'): string {
  const where = runtime === 'lua' ? 'rewrite, access, content or a timer' : 'rewrite, access, content, log or a timer';
  return `ngx.shared.${name} is on a server and its calls wait, which ${PHASE_CONTEXT_NAME[phase]} cannot: make the call in ${where}, or use a local (shared-memory) dict`;
}

/** The engine's dicts as a request sees them (the same object when none of them waits). */
export function guardWaitingDicts(s: RequestState): Readonly<Record<string, AnySharedDict>> {
  const all = s.engine.sharedDicts;
  let guarded: Record<string, AnySharedDict> | undefined;
  for (const [name, dict] of Object.entries(all)) {
    if (!isAsyncStore(dict)) continue;
    guarded ??= Object.assign(Object.create(null) as Record<string, AnySharedDict>, all);
    guarded[name] = guard(dict, s);
  }
  return guarded === undefined ? all : Object.freeze(guarded);
}

function guard(dict: AsyncSharedDictStore, s: RequestState): AsyncSharedDictStore {
  const check = () => {
    if (!PHASE_FACTS[s.phase].async) throw new PhasekitError('PHASEKIT_ERR_SHARED_DICT_WAIT', waitingDictMessage(dict.name, s.phase, 'ts'));
  };
  const wrapped: Record<string, unknown> = { name: dict.name, async: true };
  for (const key of Object.getOwnPropertyNames(Object.getPrototypeOf(dict) as object)) {
    const fn = (dict as unknown as Record<string, unknown>)[key];
    if (key === 'constructor' || typeof fn !== 'function') continue;
    wrapped[key] = (...args: unknown[]) => {
      check();
      return (fn as (...a: unknown[]) => unknown).apply(dict, args);
    };
  }
  return wrapped as unknown as AsyncSharedDictStore;
}
