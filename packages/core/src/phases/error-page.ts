// nginx's error_page, as a hook an extension fills (LocationCompile.errorPage): when a request is
// about to answer with an engine page, the hook may send it elsewhere instead — once per request.

import { responseHeaders, type RequestState } from '../request/state.js';

/**
 * Called when `decide()` chose an engine page for `s.status`. Returns `exec` when the request
 * was redirected internally (the pipeline goes on there), `again` when the answer changed to a
 * redirect (decide once more), undefined to send the page.
 */
export function errorPageTurn(s: RequestState): 'exec' | 'again' | undefined {
  const hook = s.location.errorPage;
  if (hook === undefined || s.errorPageDone || s.kind !== 'main') {
    // A page made while answering for an error page keeps its own status (nginx sets err_status again).
    s.errorPageStatus = undefined;
    return undefined;
  }
  const target = hook(s.status);
  if (target === undefined) return undefined;
  s.errorPageDone = true;
  if (target.kind === 'url') {
    responseHeaders(s).set('Location', target.url);
    s.exitCode = target.status;
    s.failed = false;
    return 'again';
  }
  s.errorPageStatus = target.status === 'target' ? undefined : (target.status ?? s.status);
  if (target.kind === 'uri' && s.method !== 'HEAD') s.method = 'GET';
  s.exec = target.kind === 'uri' ? { uri: target.uri, args: target.args, named: false, resetCtx: true } : { uri: target.name, args: undefined, named: true, resetCtx: true };
  s.status = 0;
  s.failed = false;
  s.exitCode = undefined;
  s.headers?.delete('Content-Type');
  s.headers?.delete('Content-Length');
  return 'exec';
}

/** The status an error page's answer takes (error_page 404 /x.html answers 404; =200 answers 200). */
export function applyErrorPageStatus(s: RequestState): void {
  if (s.errorPageStatus !== undefined) s.status = s.errorPageStatus;
}
