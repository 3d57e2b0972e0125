// One request's walk through the phases: the state machine every kind of request steps through.

import { NoLocationError, RedirectCycleError } from '../errors.js';
import { normalizeUri } from '../http/location.js';
import { closeRequest } from '../request/lifecycle.js';
import { STEP_ACCESS, STEP_CONTENT, STEP_DONE, STEP_LOG, STEP_RESPOND, STEP_REWRITE, STEP_SET, type RequestState } from '../request/state.js';
import { applyLocationVars, interpolateArg, setResult, writeVar } from '../request/vars.js';
import { runProxy } from '../upstream/proxy.js';
import { goesOn } from './decide.js';
import { abortResponse, respond } from './respond.js';
import { handlerFailed, runHandler, type Pending } from './run.js';

/** Walks the request forward until it is done or waits on a promise. */
export function advance(s: RequestState): void {
  while (s.step !== STEP_DONE) {
    let pending: Pending;
    try {
      pending = runStep(s);
      if (pending === undefined) settle(s);
    } catch (err) {
      internalFailure(s, err);
      continue;
    }
    if (pending !== undefined) {
      pending.then(
        () => resume(s),
        (err: unknown) => {
          handlerFailed(s, s.phase, err);
          resume(s);
        },
      );
      return;
    }
  }
}

function resume(s: RequestState): void {
  try {
    settle(s);
  } catch (err) {
    internalFailure(s, err);
  }
  advance(s);
}

/**
 * Something outside the handlers failed (the host refused a header or status, a bug): the
 * request is not left half-done. The connection closes and the log phase still runs.
 */
function internalFailure(s: RequestState, err: unknown): void {
  s.engine.log('error', `request failed: ${err instanceof Error ? err.message : String(err)}`, s, err);
  if (s.step >= STEP_LOG) {
    closeRequest(s);
    return;
  }
  s.failed = true;
  if (s.status === 0) s.status = 500;
  abortResponse(s);
  s.step = next(s, STEP_RESPOND);
  if (s.step === STEP_DONE) closeRequest(s);
}

/** Runs the current step; a promise when a handler waits. */
export function runStep(s: RequestState): Pending {
  const loc = s.location;
  switch (s.step) {
    case STEP_SET:
      applyLocationVars(s);
      for (const set of loc.set) {
        const args = set.args.map((t) => interpolateArg(s, t));
        s.setArgs = args;
        const pending = runHandler(s, 'set', (ngx) => {
          const value = set.fn(ngx, ...args);
          writeVar(s, set.var, set.verbatim === true ? value : setResult(value));
        });
        s.setArgs = undefined;
        if (pending !== undefined || s.failed) return pending;
      }
      return undefined;
    case STEP_REWRITE:
      return loc.rewrite && runHandler(s, 'rewrite', loc.rewrite);
    case STEP_ACCESS:
      return loc.access && runHandler(s, 'access', loc.access);
    case STEP_CONTENT:
      if (loc.proxy !== undefined) return runProxy(s).catch((err: unknown) => handlerFailed(s, 'content', err));
      return loc.content && runHandler(s, 'content', loc.content);
    case STEP_RESPOND:
      return respond(s);
    case STEP_LOG:
      if (loc.log === undefined) return undefined;
      s.endTime = s.engine.clock.now();
      return runHandler(s, 'log', loc.log);
    default:
      return undefined;
  }
}

/** The step after `step` in the request's plan. */
function next(s: RequestState, step: number): number {
  return s.next[step] as number;
}

/** Decides the next step from what the last handler did: fail, exec, exit, or go on; closes the request after its last step. */
export function settle(s: RequestState): void {
  const step = s.step;
  if (step >= STEP_RESPOND) {
    s.step = next(s, step);
    if (s.step === STEP_DONE) closeRequest(s);
    return;
  }
  if (s.failed) {
    s.step = STEP_RESPOND;
    return;
  }
  if (s.exec !== undefined) {
    internalRedirect(s);
    return;
  }
  const code = s.exitCode;
  if (code !== undefined) {
    if (step !== STEP_CONTENT && step !== STEP_SET && goesOn(code)) {
      s.exitCode = undefined;
    } else {
      s.step = STEP_RESPOND;
      return;
    }
  }
  if (s.headersSent) {
    // A response started in rewrite/access is finalized when that handler returns.
    s.step = STEP_RESPOND;
    return;
  }
  if (step === STEP_CONTENT && s.location.content === undefined && s.location.proxy === undefined) {
    // No content handler: nginx's static module finds no file.
    s.exitCode = 404;
  }
  s.step = next(s, step);
}

function internalRedirect(s: RequestState): void {
  const target = s.exec as NonNullable<RequestState['exec']>;
  s.exec = undefined;
  if (++s.redirects > s.engine.maxRedirects) {
    redirectFailed(s, new RedirectCycleError(target.uri));
    return;
  }
  const table = s.gen.locations;
  if (target.named) {
    const loc = table.named(target.uri);
    if (loc === undefined) {
      redirectFailed(s, new NoLocationError(target.uri));
      return;
    }
    s.location = loc;
    s.captures = undefined;
  } else {
    const uri = normalizeUri(target.uri) ?? target.uri;
    s.uri = uri;
    const found = table.find(uri);
    if (found === undefined) {
      s.exitCode = 404;
      s.step = STEP_RESPOND;
      return;
    }
    s.location = found.location;
    s.captures = found.captures;
  }
  if (!target.named && target.resetCtx) s.args = target.args ?? '';
  if (target.resetCtx) s.ctx = undefined;
  s.exitCode = undefined;
  s.out.length = 0;
  s.step = STEP_SET;
}

/** An internal redirect that cannot happen: logged without a stack (nginx prints none), then 500. */
function redirectFailed(s: RequestState, err: Error): void {
  s.failed = true;
  s.engine.log('error', err.message, s, err);
  s.step = STEP_RESPOND;
}
