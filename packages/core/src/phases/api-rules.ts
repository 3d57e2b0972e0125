// The one table of which API may run in which phase, with OpenResty's error text for the rest.

import { ApiDisabledError } from '../errors.js';
import { COSOCKET_PHASES, maskWhere, PHASE_BIT, PHASE_CONTEXT_NAME, phaseMask, REQUEST_PHASE_MASK, YIELDING_PHASES, type Phase } from './facts.js';

const ALL = maskWhere(() => true);
/** Phases with a request object. */
const REQUEST = REQUEST_PHASE_MASK;
/** Phases that may produce the response body. */
const OUTPUT = phaseMask('rewrite', 'access', 'content');
/** Phases that may wait (yield): sleep, body reads, subrequests. */
const YIELDING = YIELDING_PHASES;
/** Phases where cosockets may run: those that may wait, and phasekit's log phase (a deliberate difference). */
const COSOCKET = COSOCKET_PHASES;

/**
 * API name → mask of phases where it may be called. Names are OpenResty's Lua names so
 * that both runtimes (TypeScript and Lua) check against the same row. Observed on
 * lua-nginx-module 0.10.23: most request APIs work in every request phase; output,
 * flow control and waiting are limited to rewrite/access/content.
 */
export const API_RULES = {
  'ngx.say': OUTPUT,
  'ngx.print': OUTPUT,
  'ngx.flush': OUTPUT,
  'ngx.eof': OUTPUT | phaseMask('log'),
  'ngx.send_headers': OUTPUT,
  'ngx.exit': OUTPUT | phaseMask('headerFilter', 'timer', 'balancer', 'sslCertificate'),
  'ngx.exec': OUTPUT,
  'ngx.redirect': OUTPUT,
  'ngx.sleep': YIELDING,
  'ngx.location.capture': OUTPUT,
  'ngx.status': REQUEST,
  'ngx.status=': REQUEST,
  'ngx.header': REQUEST,
  'ngx.header=': REQUEST,
  'ngx.var': REQUEST,
  'ngx.var=': REQUEST,
  'ngx.ctx': REQUEST | phaseMask('initWorker', 'timer', 'sslCertificate', 'exitWorker'),
  'ngx.arg': phaseMask('set', 'bodyFilter'),
  'ngx.arg=': phaseMask('bodyFilter'),
  'ngx.req.get_method': REQUEST,
  'ngx.req.set_method': REQUEST,
  'ngx.req.get_headers': REQUEST,
  'ngx.req.raw_header': REQUEST,
  'ngx.req.set_header': REQUEST,
  'ngx.req.clear_header': REQUEST,
  'ngx.req.get_uri_args': REQUEST,
  'ngx.req.set_uri_args': REQUEST,
  'ngx.req.set_uri': REQUEST,
  'ngx.req.read_body': OUTPUT,
  'ngx.req.get_body_data': REQUEST,
  'ngx.req.set_body_data': OUTPUT,
  'ngx.req.discard_body': OUTPUT,
  'ngx.req.get_post_args': REQUEST,
  'ngx.resp.get_headers': REQUEST,
  'ngx.log': ALL,
  'ngx.get_phase': ALL,
  'ngx.shared': ALL,
  'ngx.timer': ALL & ~phaseMask('init', 'exitWorker'),
  'ngx.worker': ALL,
  'ngx.ssl': phaseMask('sslCertificate'),
  'ngx.balancer': phaseMask('balancer'),
  'ngx.socket.tcp': COSOCKET,
  'ngx.socket.udp': COSOCKET,
  'ngx.req.socket': OUTPUT,
  'ngx.thread.spawn': YIELDING,
  'ngx.thread.wait': YIELDING,
  'ngx.thread.kill': YIELDING,
  'ngx.semaphore.wait': YIELDING,
  'ngx.on_abort': OUTPUT,
} as const satisfies Record<string, number>;

/**
 * Request APIs that lua-resty-core implements over FFI: outside a request (init_worker,
 * timers) they fail with "API disabled in the current context" rather than naming the phase.
 */
const FFI_STYLE = new Set<string>([
  'ngx.status', 'ngx.status=', 'ngx.header', 'ngx.header=', 'ngx.var', 'ngx.var=', 'ngx.req.get_method',
  'ngx.req.set_method', 'ngx.req.get_headers', 'ngx.req.set_header', 'ngx.req.clear_header', 'ngx.req.get_uri_args',
  'ngx.req.set_uri_args', 'ngx.req.set_uri', 'ngx.req.get_body_data', 'ngx.req.get_post_args', 'ngx.resp.get_headers',
]);
/** In init_by_lua these fail with "no request object found"; the rest with "no request found". */
const C_STYLE = new Set<string>(['ngx.say', 'ngx.print', 'ngx.exec', 'ngx.redirect', 'ngx.eof', 'ngx.location.capture', 'ngx.req.get_post_args', 'ngx.resp.get_headers']);
const NO_REQUEST = phaseMask('initWorker', 'timer', 'exitWorker');

/** The error OpenResty raises for `api` in `phase` (assumes it is not allowed there). */
export function disabledMessage(api: string, phase: Phase): string {
  if (phase === 'init') return api === 'ngx.timer' ? 'no request' : C_STYLE.has(api) ? 'no request object found' : 'no request found';
  if ((PHASE_BIT[phase] & NO_REQUEST) !== 0 && FFI_STYLE.has(api)) return 'API disabled in the current context';
  return `API disabled in the context of ${PHASE_CONTEXT_NAME[phase]}`;
}

export type ApiName = keyof typeof API_RULES;

/** Throws OpenResty's "API disabled" error unless `api` may run in `phase`. */
export function checkApi(api: ApiName, phase: Phase): void {
  if ((API_RULES[api] & PHASE_BIT[phase]) === 0) throw new ApiDisabledError(api, disabledMessage(api, phase));
}

/** True when `api` may run in `phase`. */
export function apiAllowed(api: ApiName, phase: Phase): boolean {
  return (API_RULES[api] & PHASE_BIT[phase]) !== 0;
}
