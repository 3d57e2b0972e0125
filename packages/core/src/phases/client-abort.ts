// lua_check_client_abort: while rewrite, access or content handlers run, a client that closes the
// connection ends the request with 499 (its handlers stopped at once), or runs the handler
// registered with ngx.on_abort instead.

import type { RequestState } from '../request/state.js';
import { STEP_CONTENT } from '../request/state.js';
import { phaseMask, PHASE_BIT, type Phase } from './facts.js';

const WATCHED = phaseMask('rewrite', 'access', 'content');
const NOOP = (): void => undefined;

/** Starts watching the client before a handler of `phase` runs, when the location asks for it. */
export function watchClientAbort(s: RequestState, phase: Phase): void {
  if (s.unwatchAbort !== undefined || s.location.checkClientAbort !== true || (PHASE_BIT[phase] & WATCHED) === 0) return;
  if (s.kind === 'detached' || s.parent !== undefined) return;
  s.unwatchAbort = s.exchange.onClientAbort?.(() => clientAborted(s)) ?? NOOP;
}

function clientAborted(s: RequestState): void {
  if (s.closed || s.clientAborted || s.step > STEP_CONTENT) return;
  s.clientAborted = true;
  s.engine.log('info', 'client prematurely closed connection', s);
  const handler = s.abortHandler;
  if (handler !== undefined) {
    handler();
    return;
  }
  s.exitCode = 499;
  s.terminate?.();
}

/** Stops watching (the request is over). */
export function unwatchClientAbort(s: RequestState): void {
  s.unwatchAbort?.();
  s.unwatchAbort = undefined;
}
