// The runner's normalizations: the only ways a phasekit answer may differ from nginx's
// recording and still count as the same. Each is a documented difference (README.md here,
// docs/openresty-differences.md); nothing else is forgiven.

import { defaultPage } from 'phasekit';
import type { BodyValue, RawResponse } from './raw-http.mjs';

/** What one request produced, as compared. */
export interface Observed {
  status: number | null;
  headers: Record<string, string | string[]>;
  framing: RawResponse['framing'];
  body: BodyValue;
  incomplete?: boolean;
  timeout?: boolean;
  partial?: BodyValue;
  log?: string[];
}

/** What one case produced: the engine refused to start, or the answers (and start-up log). */
export type CaseObserved =
  | { startError: true }
  | { startLog?: string[]; requests: Observed[] };

const NGINX_FOOTER = '<hr><center>nginx</center>';
const PHASEKIT_FOOTER = '<hr><center>phasekit</center>';

/**
 * Log text, both sides: Lua chunk names become `<phase>_by_lua` (nginx names a chunk
 * `content_by_lua(nginx.conf:24)`, phasekit `content(location "/")`; line numbers within the
 * chunk are kept), and the Lua stack traceback is dropped (LuaJIT's and Lua 5.4's differ).
 */
export function normalizeLogLine(line: string): string {
  const cut = line.indexOf('\nstack traceback:');
  return normalizeChunkNames(cut === -1 ? line : line.slice(0, cut));
}

/** Lua chunk names as `<phase>_by_lua`, in log lines and in bodies (error texts a case prints). */
export function normalizeChunkNames(text: string): string {
  return text
    .replace(/\b([a-z_]+)_by_lua\(nginx\.conf:\d+\)/g, '$1_by_lua')
    .replace(/\b(init_worker|init|set|rewrite|access|content|balancer|header_filter|body_filter|log|timer)\(location "(?:[^"\\]|\\.)*"\)/g, '$1_by_lua')
    .replace(/\b(init_worker|init)(?=:\d+:)/g, '$1_by_lua');
}

function contentLength(o: Observed): string | undefined {
  const v = o.headers['content-length'];
  return Array.isArray(v) ? undefined : v;
}

function byteLength(body: BodyValue): number {
  return typeof body === 'string' ? Buffer.byteLength(body) : Buffer.from(body.base64, 'base64').length;
}

/**
 * Makes phasekit's answer comparable with nginx's, in place of a copy, by these rules only:
 * 1. default pages: phasekit's footer `<center>phasekit</center>` reads as nginx's
 *    `<center>nginx</center>` (server_tokens off), and a Content-Length that counted the
 *    page is adjusted (for HEAD, a Content-Length that is exactly the length of phasekit's
 *    page for the status);
 * 2. framing: when nginx sent no Content-Length and framed the body chunked (or by the close),
 *    a complete phasekit answer framed by its own Content-Length counts as nginx's framing
 *    (phasekit buffers output that was never flushed and sends it with a length); for HEAD,
 *    phasekit's Content-Length is dropped when nginx sent none;
 * 3. `Transfer-Encoding` is not compared as a header: `framing` says it.
 * 4. Lua chunk names in bodies read `<phase>_by_lua` on both sides (normalizeChunkNames);
 *    log lines on both sides go through normalizeLogLine.
 */
export function normalizePair(method: string, nginx: Observed, phasekit: Observed): [Observed, Observed] {
  const ng: Observed = { ...nginx, headers: { ...nginx.headers } };
  const pk: Observed = { ...phasekit, headers: { ...phasekit.headers } };
  delete ng.headers['transfer-encoding'];
  delete pk.headers['transfer-encoding'];
  if (typeof pk.body === 'string' && pk.body.includes(PHASEKIT_FOOTER)) {
    const before = byteLength(pk.body);
    pk.body = pk.body.split(PHASEKIT_FOOTER).join(NGINX_FOOTER);
    if (contentLength(pk) === String(before)) pk.headers['content-length'] = String(byteLength(pk.body));
  } else if (method === 'HEAD' && pk.status !== null) {
    const page = defaultPage(pk.status);
    if (page !== undefined && contentLength(pk) === String(byteLength(page))) {
      pk.headers['content-length'] = String(byteLength(page.split(PHASEKIT_FOOTER).join(NGINX_FOOTER)));
    }
  }
  const ngLength = contentLength(ng);
  if (ngLength === undefined && ng.headers['content-length'] === undefined && pk.framing === 'length' && !pk.incomplete) {
    if (method === 'HEAD' || ng.framing === 'chunked' || ng.framing === 'none') {
      if (method === 'HEAD' || contentLength(pk) === String(byteLength(pk.body))) {
        delete pk.headers['content-length'];
        pk.framing = ng.framing;
      }
    }
  }
  if (typeof ng.body === 'string') ng.body = normalizeChunkNames(ng.body);
  if (typeof pk.body === 'string') pk.body = normalizeChunkNames(pk.body);
  if (ng.log !== undefined) ng.log = ng.log.map(normalizeLogLine);
  if (pk.log !== undefined) pk.log = pk.log.map(normalizeLogLine);
  return [ng, pk];
}
