// ngx.say / print / flush / eof / send_headers / exit / exec / redirect for TypeScript handlers.

import { BadArgumentError, HeadersSentError } from '../errors.js';
import { flushOutput, sendEof, sendHeaders } from '../phases/respond.js';
import { responseHeaders, type RequestState } from '../request/state.js';
import { encodeArgs, type ArgsInput } from '../text/args.js';
import { joinChunks, pushPrintable } from '../text/format.js';
import { allow } from './check.js';
import type { Chunk, Printable } from './types.js';

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
// eslint-disable-next-line no-control-regex
export const UNSAFE_URI_BYTE = /[\x00-\x1f\x7f]/;

/** nginx's answer to an output call once writing to the client failed. */
export const OUTPUT_FILTER_ERROR = 'nginx output filter error';

/** Why output can no longer reach the client (it closed the connection), or undefined. */
export function outputError(s: RequestState): string | undefined {
  return s.exchange.clientGone?.() === true ? OUTPUT_FILTER_ERROR : undefined;
}

const FLUSHED: [1] = [1];

/** `[1]`, or `[undefined, "nginx output filter error"]` when the client has gone (before or while waiting). */
export function flush(s: RequestState, wait: boolean): Promise<[1] | [undefined, string]> {
  allow(s, 'ngx.flush');
  const gone = outputError(s);
  if (gone !== undefined) return Promise.resolve([undefined, gone]);
  const pending = flushOutput(s, wait);
  if (pending === undefined) return Promise.resolve(FLUSHED);
  return pending.then(() => {
    const err = outputError(s);
    return err === undefined ? FLUSHED : [undefined, err];
  });
}

/** False when the body had ended already (nginx: nil, "seen eof"). */
export function eof(s: RequestState): boolean {
  allow(s, 'ngx.eof');
  if (s.eofSent) return false;
  sendEof(s);
  return true;
}

export function sendHeadersNow(s: RequestState): void {
  allow(s, 'ngx.send_headers');
  if (sendHeaders(s)) s.exchange.flushHeaders?.();
}

/** One output call is one chunk (body_filter sees it alone). False when the body has ended (nginx: nil, "seen eof") or the client has gone (nil, "nginx output filter error"). */
export function say(s: RequestState, values: Printable[]): boolean {
  allow(s, 'ngx.say');
  if (s.eofSent || s.bodyEnded || outputError(s) !== undefined) return false;
  const only = values.length === 1 ? values[0] : undefined;
  if (typeof only === 'string') s.out.push(only + '\n');
  else {
    const parts: Chunk[] = [];
    pushPrintable(parts, values, 'say');
    parts.push('\n');
    s.out.push(joinChunks(parts));
  }
  s.headersSent = true;
  return true;
}

export function print(s: RequestState, values: Printable[]): boolean {
  allow(s, 'ngx.print');
  if (s.eofSent || s.bodyEnded || outputError(s) !== undefined) return false;
  const only = values.length === 1 ? values[0] : undefined;
  if (typeof only === 'string' || only instanceof Uint8Array) s.out.push(only);
  else {
    const parts: Chunk[] = [];
    pushPrintable(parts, values, 'print');
    s.out.push(joinChunks(parts.length > 0 ? parts : ['']));
  }
  s.headersSent = true;
  return true;
}

export function exit(s: RequestState, status: number): void {
  allow(s, 'ngx.exit');
  if (!Number.isInteger(status)) throw new BadArgumentError(`bad argument #1 to 'exit' (number expected, got ${typeof status})`);
  // HTTP status lines carry three digits; nginx would send "1000", Node cannot.
  if (status > 999) throw new BadArgumentError(`bad argument #1 to 'exit' (status ${status} out of range)`);
  s.exitCode = status;
}

export function exec(s: RequestState, uri: string, args?: string | ArgsInput): void {
  allow(s, 'ngx.exec');
  if (typeof uri !== 'string') throw new BadArgumentError("bad argument #1 to 'exec' (string expected)");
  if (uri === '') throw new BadArgumentError('The uri argument is empty');
  if (s.headersSent) throw new HeadersSentError('ngx.exec after sending out response headers');
  const bad = uri.search(UNSAFE_URI_BYTE);
  if (bad !== -1) throw new BadArgumentError(`unsafe byte "0x${uri.charCodeAt(bad).toString(16).padStart(2, '0')}" in uri "${escapeUnsafe(uri)}"`);
  let path = uri;
  let query: string | undefined;
  const q = uri.indexOf('?');
  if (q !== -1) {
    path = uri.slice(0, q);
    query = uri.slice(q + 1);
  }
  if (args !== undefined) {
    const extra = typeof args === 'string' ? args : encodeArgs(args);
    query = query === undefined || query === '' ? extra : `${query}&${extra}`;
  }
  const named = path.startsWith('@');
  if (!named && hasDotDot(path)) {
    s.engine.log('error', `unsafe URI "${path}" was detected`, s);
    throw new BadArgumentError('unsafe uri');
  }
  if (named && query !== undefined && query !== '') {
    s.engine.log('warn', `query strings ${query} ignored when exec'ing named location ${path}`, s);
    query = undefined;
  }
  s.exec = { uri: named ? path.slice(1) : path, args: query, named, resetCtx: true };
  s.exitCode = undefined;
}

export function redirect(s: RequestState, url: string, status = 302): void {
  allow(s, 'ngx.redirect');
  if (!REDIRECT_STATUSES.has(status)) {
    throw new BadArgumentError(
      'only ngx.HTTP_MOVED_TEMPORARILY, ngx.HTTP_MOVED_PERMANENTLY, ngx.HTTP_PERMANENT_REDIRECT, ngx.HTTP_SEE_OTHER, and ngx.HTTP_TEMPORARY_REDIRECT are allowed',
    );
  }
  const bad = url.search(UNSAFE_URI_BYTE);
  if (bad !== -1) throw new BadArgumentError(`unsafe byte "0x${url.charCodeAt(bad).toString(16).padStart(2, '0')}" in redirect uri "${escapeUnsafe(url)}"`);
  if (s.headersSent) throw new HeadersSentError('ngx.redirect after sending out the headers');
  const headers = responseHeaders(s);
  headers.set('Location', url);
  s.exitCode = status;
}

/** nginx's unsafe-URI check for internal redirects: a ".." segment. */
function hasDotDot(path: string): boolean {
  return path === '..' || path.startsWith('../') || path.includes('/../') || path.endsWith('/..');
}

/** `\r` → `\x0D`, as OpenResty quotes a URI in its unsafe-byte errors. */
function escapeUnsafe(uri: string): string {
  return uri.replace(new RegExp(UNSAFE_URI_BYTE.source, 'g'), (c) => '\\x' + c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0'));
}
