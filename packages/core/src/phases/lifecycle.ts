// Handlers with no request (init, initWorker, timers, exitWorker, sslCertificate): opened and
// closed like every other request, with the same `ngx` and the same phase rules.

import type { EngineCore } from '../engine/engine-core.js';
import type { CompiledHandler } from '../engine/script-runtime.js';
import { closeRequest, openRequest } from '../request/lifecycle.js';
import type { CompiledLocation, Generation, RequestState } from '../request/state.js';
import type { Phase } from './facts.js';
import { runHandler } from './run.js';
import { fabricateExchange } from './single.js';

/** Opens a request-less run in `phase` (closed by closeRequest, as any request). */
export function openDetached(engine: EngineCore, gen: Generation, phase: Phase): RequestState {
  return openRequest(engine, gen, { kind: 'detached', exchange: DETACHED_EXCHANGE, location: DETACHED_LOCATION, uri: '/', args: '', phase });
}

/**
 * Runs `handler` in `phase` outside any request; errors are logged there (s.failed tells). Returns
 * the closed state at once for a synchronous handler, else a promise of it.
 */
export function runDetached(engine: EngineCore, gen: Generation, phase: Phase, handler: CompiledHandler, setup?: (s: RequestState) => void): RequestState | Promise<RequestState> {
  const s = openDetached(engine, gen, phase);
  setup?.(s);
  const pending = runHandler(s, phase, handler);
  if (pending === undefined) {
    closeRequest(s);
    return s;
  }
  return Promise.resolve(pending).then(() => {
    closeRequest(s);
    return s;
  });
}

const DETACHED_EXCHANGE = fabricateExchange({});

const DETACHED_LOCATION: CompiledLocation = {
  name: '(lifecycle)', match: { kind: 'named', value: '(lifecycle)' }, internal: true, vars: new Map(), set: [],
  rewrite: undefined, access: undefined, content: undefined, headerFilter: undefined, bodyFilter: undefined, log: undefined,
  defaultType: 'text/plain',
  bodyFilterBuffer: undefined,
  proxy: undefined,
  errorPage: undefined,
};
