// The one place an exit code (and what the handlers did) becomes a response, for every kind of request.

import { NGX_CONSTANTS } from '../ngx/constants.js';
import type { Chunk } from '../ngx/types.js';
import type { RequestState } from '../request/state.js';
import { CLOSE_STATUSES, defaultPage } from '../text/status.js';

const { OK, ERROR, DECLINED } = NGX_CONSTANTS;

/**
 * What the request answers: its status (set on the state), and its body: the handlers' output
 * (`output`: the chunks of s.out, one per output call), nginx's page for the status (`page`), or none.
 */
export interface Decision {
  body: Chunk | undefined;
  page: boolean;
  output: boolean;
}

const NONE: Decision = Object.freeze({ body: undefined, page: false, output: false });
const OUTPUT: Decision = Object.freeze({ body: undefined, page: false, output: true });

/** True when an exit code in rewrite/access lets the request go on to the next phase (OK, DECLINED). */
export function goesOn(code: number): boolean {
  return code === OK || code === DECLINED;
}

/**
 * Decides the response from what the handlers did, as nginx + lua-nginx-module would: sets
 * `s.status` and returns the body, or undefined when the connection is to be closed unanswered.
 */
export function decide(s: RequestState): Decision | undefined {
  const code = s.exitCode;
  if (code === ERROR && s.kind === 'subrequest' && s.out.length > 0) {
    // A subrequest's output is the parent's as soon as it is made: ngx.exit(ngx.ERROR) keeps it.
    if (s.status === 0) s.status = 200;
    return OUTPUT;
  }
  if (s.headersSent) {
    // Output was produced: its status stands (OpenResty sent the headers at the first say).
    if (s.failed || code === ERROR || (code !== undefined && CLOSE_STATUSES.has(code))) {
      if (s.status === 0) s.status = 200;
      return undefined;
    }
    if (s.status === 0) s.status = 200;
    if (code !== undefined && code >= 300 && code !== s.status) {
      s.engine.log('error', `attempt to set status ${code} via ngx.exit after sending out the response status ${s.status}`, s);
    }
    return OUTPUT;
  }
  if (s.failed) {
    s.status = 500;
    return { body: defaultPage(500), page: true, output: false };
  }
  if (code === undefined || code === OK) {
    if (s.status === 0) s.status = 200;
    return NONE;
  }
  if (code < 100 || CLOSE_STATUSES.has(code)) {
    // ERROR, DECLINED (in content), 1..99, 408, 444, 499: nginx closes the connection.
    s.status = CLOSE_STATUSES.has(code) ? code : 0;
    return undefined;
  }
  if (code < 300) {
    if (s.status === 0) s.status = code;
    return NONE;
  }
  s.status = code;
  // ngx.exit(status) in a subrequest: the status comes back with an empty body, no page
  if (s.kind === 'subrequest') return NONE;
  const page = defaultPage(code);
  return page === undefined ? NONE : { body: page, page: true, output: false };
}
