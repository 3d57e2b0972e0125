// ngx.header (response headers, as a proxy over the request's header store) and ngx.resp.get_headers.

import { BadArgumentError } from '../errors.js';
import { headerKey } from '../http/headers.js';
import { checkApi } from '../phases/api-rules.js';
import { responseHeaders, type RequestState } from '../request/state.js';
import { allow } from './check.js';
import type { HeaderValue, Ngx, NgxResp } from './types.js';

/** Past the header filter, header changes are logged and ignored, as OpenResty does. */
function headerLocked(s: RequestState): boolean {
  if (!s.headersSent || s.phase === 'headerFilter') return false;
  s.engine.log('error', 'attempt to set ngx.header.HEADER after sending out response headers', s);
  return true;
}

const FRAMING = new Set(['transfer-encoding', 'trailer', 'connection', 'keep-alive']);

/**
 * phasekit owns the framing of every response: a Content-Length that is not a count of bytes
 * raises as OpenResty does ("failed to set header"); Transfer-Encoding, Trailer, Connection and
 * Keep-Alive from a handler are ignored with a warning (nginx would send a malformed response);
 * an empty name is ignored, as nginx does.
 */
function framingAllows(s: RequestState, name: string, value: HeaderValue | number | boolean | null | undefined): boolean {
  if (name === '') return false;
  const key = headerKey(name);
  if (key === 'content-length') {
    if (value === null || value === undefined) return true;
    const text = typeof value === 'number' ? (Number.isSafeInteger(value) && value >= 0 ? String(value) : '') : typeof value === 'string' ? value : '';
    if (!/^\d{1,15}$/.test(text)) throw new BadArgumentError('failed to set header');
    return true;
  }
  if (FRAMING.has(key)) {
    s.engine.log('warn', `ignoring response header "${name}": phasekit frames the response itself`, s);
    return false;
  }
  return true;
}

/** Proxy traps shared by every request's `ngx.header`; the target is the request state. */
const HEADER_TRAPS: ProxyHandler<RequestState> = {
  get(s, name) {
    if (typeof name !== 'string') return undefined;
    allow(s, 'ngx.header');
    return s.headers?.get(name);
  },
  set(s, name, value) {
    if (typeof name !== 'string') return false;
    allow(s, 'ngx.header=');
    if (headerLocked(s)) return true;
    const v = value as HeaderValue | number | boolean | null | undefined;
    if (!framingAllows(s, name, v)) return true;
    responseHeaders(s).set(name, v);
    return true;
  },
  deleteProperty(s, name) {
    if (typeof name !== 'string') return false;
    allow(s, 'ngx.header=');
    if (!headerLocked(s)) s.headers?.delete(name);
    return true;
  },
  has(s, name) {
    return typeof name === 'string' && s.headers?.has(name) === true;
  },
  ownKeys(s) {
    return Object.keys(s.headers?.toRecord(0) ?? {});
  },
  getOwnPropertyDescriptor(s, name) {
    const v = typeof name === 'string' ? s.headers?.get(name) : undefined;
    return v === undefined ? undefined : { value: v, enumerable: true, configurable: true, writable: true };
  },
};

export function headerProxy(s: RequestState): Ngx['header'] {
  return new Proxy(s, HEADER_TRAPS) as unknown as Ngx['header'];
}

export function respApi(s: RequestState): NgxResp {
  return {
    getHeaders(max = 100, raw = false) {
      checkApi('ngx.resp.get_headers', s.phase);
      return s.headers?.toRecord(max, raw) ?? {};
    },
  };
}
