// The one table of which API may run in which phase, with OpenResty's error text for the rest.

import { ApiDisabledError } from './errors.js';
import { PHASE_BIT, PHASE_CONTEXT_NAME, phaseMask, type Phase } from './phases.js';

const ALL = phaseMask(
  'init', 'initWorker', 'set', 'rewrite', 'access', 'content', 'balancer',
  'headerFilter', 'bodyFilter', 'log', 'timer', 'exitWorker', 'sslCertificate',
);
/** Phases with a request object. */
const REQUEST = phaseMask('set', 'rewrite', 'access', 'content', 'balancer', 'headerFilter', 'bodyFilter', 'log');
/** Phases that may produce the response body. */
const OUTPUT = phaseMask('rewrite', 'access', 'content');
/** Phases that may wait (yield): sleep, body reads, subrequests. */
const YIELDING = phaseMask('rewrite', 'access', 'content', 'timer', 'sslCertificate');

/**
 * API name → mask of phases where it may be called. Names are OpenResty's Lua names so
 * that both runtimes (TypeScript and Lua) check against the same row.
 */
export const API_RULES = {
  'ngx.say': OUTPUT,
  'ngx.print': OUTPUT,
  'ngx.flush': OUTPUT,
  'ngx.eof': OUTPUT,
  'ngx.send_headers': OUTPUT,
  'ngx.exit': OUTPUT | phaseMask('headerFilter', 'timer', 'balancer', 'sslCertificate'),
  'ngx.exec': OUTPUT,
  'ngx.redirect': OUTPUT,
  'ngx.sleep': YIELDING,
  'ngx.location.capture': OUTPUT,
  'ngx.status': REQUEST,
  'ngx.status=': phaseMask('set', 'rewrite', 'access', 'content', 'headerFilter', 'bodyFilter', 'log'),
  'ngx.header': REQUEST,
  'ngx.header=': phaseMask('rewrite', 'access', 'content', 'headerFilter', 'bodyFilter', 'log'),
  'ngx.var': REQUEST,
  'ngx.var=': REQUEST,
  'ngx.ctx': REQUEST | phaseMask('timer', 'sslCertificate'),
  'ngx.arg': phaseMask('set', 'bodyFilter'),
  'ngx.req.get_method': REQUEST,
  'ngx.req.set_method': phaseMask('set', 'rewrite', 'access', 'content', 'headerFilter', 'bodyFilter'),
  'ngx.req.get_headers': REQUEST,
  'ngx.req.set_header': phaseMask('set', 'rewrite', 'access', 'content', 'headerFilter', 'bodyFilter'),
  'ngx.req.clear_header': phaseMask('set', 'rewrite', 'access', 'content', 'headerFilter', 'bodyFilter'),
  'ngx.req.get_uri_args': REQUEST,
  'ngx.req.set_uri_args': phaseMask('set', 'rewrite', 'access', 'content', 'headerFilter', 'bodyFilter', 'log'),
  'ngx.req.set_uri': phaseMask('set', 'rewrite', 'access', 'content', 'headerFilter', 'bodyFilter'),
  'ngx.req.read_body': OUTPUT,
  'ngx.req.get_body_data': phaseMask('rewrite', 'access', 'content', 'log'),
  'ngx.req.get_post_args': phaseMask('rewrite', 'access', 'content', 'headerFilter', 'bodyFilter', 'log'),
  'ngx.resp.get_headers': REQUEST,
  'ngx.log': ALL,
  'ngx.get_phase': ALL,
  'ngx.shared': ALL,
} as const satisfies Record<string, number>;

export type ApiName = keyof typeof API_RULES;

/** Throws OpenResty's "API disabled" error unless `api` may run in `phase`. */
export function checkApi(api: ApiName, phase: Phase): void {
  if ((API_RULES[api] & PHASE_BIT[phase]) === 0) throw new ApiDisabledError(api, PHASE_CONTEXT_NAME[phase]);
}

/** True when `api` may run in `phase`. */
export function apiAllowed(api: ApiName, phase: Phase): boolean {
  return (API_RULES[api] & PHASE_BIT[phase]) !== 0;
}
