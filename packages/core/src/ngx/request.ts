// The per-request `ngx` object TypeScript handlers receive; every call checks the phase table.

import { API_RULES, checkApi, type ApiName } from '../phases/api-rules.js';
import { decodeArgs, encodeArgs, type Args, type ArgsInput } from '../text/args.js';
import { LOG_LEVEL_NAMES, METHOD_BY_CODE, NGX_CONSTANTS, type NgxConstants } from './constants.js';
import { ApiDisabledError, BadArgumentError, BodyNotReadError, HeadersSentError } from '../errors.js';
import { BodyTooLargeError } from '../http/exchange.js';
import { randomUUID } from 'node:crypto';
import { unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatNumber, pushPrintable } from '../text/format.js';
import { flushOutput, sendEof, sendHeaders } from '../phases/respond.js';
import { wireHeaderName, wireHeaderValue } from '../http/headers.js';
import type { BodyFilterArg, Chunk, HeaderValue, Ngx, NgxBalancer, NgxLocation, NgxSocket, NgxSsl, NgxReq, NgxResp, NgxTimer, NgxWorker, Printable } from './types.js';
import { ngxSocket, onAbort, requestSocket } from './socket.js';
import type { RequestSocket } from '../socket/index.js';
import { capture } from '../phases/subrequest.js';
import type { TimerCallback, TimerHandle } from '../engine/timers.js';
import { PHASE_CONTEXT_NAME, PHASE_NGX_NAME } from '../phases/facts.js';
import { responseHeaders, type RequestState } from '../request/state.js';
import type { SharedDict } from '../shared-dict/index.js';
import { readVar, writeVar } from '../request/vars.js';

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
// eslint-disable-next-line no-control-regex
const UNSAFE_URI_BYTE = /[\x00-\x1f\x7f]/;

// eslint-disable-next-line @typescript-eslint/no-empty-object-type, @typescript-eslint/no-unsafe-declaration-merging
export interface NgxRequest extends NgxConstants {}

// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class NgxRequest implements Ngx {
  readonly #s: RequestState;
  #header: Ngx['header'] | undefined;
  #var: Ngx['var'] | undefined;
  #req: NgxReq | undefined;
  #resp: NgxResp | undefined;
  #timer: NgxTimer | undefined;
  #worker: NgxWorker | undefined;
  #location: NgxLocation | undefined;
  #ssl: NgxSsl | undefined;
  #balancer: NgxBalancer | undefined;
  #socket: NgxSocket | undefined;

  constructor(state: RequestState) {
    this.#s = state;
  }

  #check(api: ApiName): RequestState {
    const s = this.#s;
    if ((API_RULES[api] & s.phaseBit) === 0) checkApi(api, s.phase);
    return s;
  }

  flush(wait = false): Promise<void> {
    const s = this.#check('ngx.flush');
    return flushOutput(s, wait) ?? Promise.resolve();
  }

  eof(): void {
    sendEof(this.#check('ngx.eof'));
  }

  sendHeaders(): void {
    const s = this.#check('ngx.send_headers');
    if (sendHeaders(s)) s.exchange.flushHeaders?.();
  }

  get headersSent(): boolean {
    return this.#s.headersSent;
  }

  say(...values: Printable[]): void {
    const s = this.#check('ngx.say');
    if (s.eofSent) return;
    const only = values.length === 1 ? values[0] : undefined;
    if (typeof only === 'string') s.out.push(only + '\n');
    else {
      pushPrintable(s.out, values, 'say');
      s.out.push('\n');
    }
    s.headersSent = true;
  }

  print(...values: Printable[]): void {
    const s = this.#check('ngx.print');
    if (s.eofSent) return;
    pushPrintable(s.out, values, 'print');
    s.headersSent = true;
  }

  exit(status: number): void {
    const s = this.#check('ngx.exit');
    if (!Number.isInteger(status)) throw new BadArgumentError(`bad argument #1 to 'exit' (number expected, got ${typeof status})`);
    // HTTP status lines carry three digits; nginx would send "1000", Node cannot.
    if (status > 999) throw new BadArgumentError(`bad argument #1 to 'exit' (status ${status} out of range)`);
    s.exitCode = status;
  }

  exec(uri: string, args?: string | ArgsInput): void {
    const s = this.#check('ngx.exec');
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
    if (named && query !== undefined && query !== '') {
      s.engine.log('warn', `query strings ${query} ignored when exec'ing named location ${path}`, s);
      query = undefined;
    }
    s.exec = { uri: named ? path.slice(1) : path, args: query, named, resetCtx: true };
    s.exitCode = undefined;
  }

  redirect(url: string, status = 302): void {
    const s = this.#check('ngx.redirect');
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

  get status(): number {
    return this.#check('ngx.status').status;
  }

  set status(value: number) {
    const s = this.#check('ngx.status=');
    if (s.headersSent && s.phase !== 'headerFilter') {
      s.engine.log('error', 'attempt to set ngx.status after sending out response headers', s);
      return;
    }
    if (!Number.isInteger(value) || value < 100 || value > 999) throw new BadArgumentError(`bad status ${String(value)}`);
    s.status = value;
  }

  get header(): Ngx['header'] {
    this.#check('ngx.header');
    return (this.#header ??= headerProxy(this.#s));
  }

  get var(): Ngx['var'] {
    this.#check('ngx.var');
    return (this.#var ??= varProxy(this.#s));
  }

  get ctx(): Record<string, unknown> {
    const s = this.#check('ngx.ctx');
    return (s.ctx ??= {});
  }

  set ctx(value: Record<string, unknown>) {
    const s = this.#check('ngx.ctx');
    if (typeof value !== 'object' || value === null) throw new BadArgumentError('ngx.ctx must be a table');
    s.ctx = value;
  }

  get arg(): BodyFilterArg {
    const s = this.#check('ngx.arg');
    return s.arg ?? (s.setArgs as unknown as BodyFilterArg);
  }

  get req(): NgxReq {
    return (this.#req ??= new Req(this.#s));
  }

  get resp(): NgxResp {
    const s = this.#s;
    return (this.#resp ??= {
      getHeaders(max = 100, raw = false) {
        checkApi('ngx.resp.get_headers', s.phase);
        return s.headers?.toRecord(max, raw) ?? {};
      },
    });
  }

  get shared(): Readonly<Record<string, SharedDict>> {
    return this.#s.engine.sharedDicts;
  }

  get timer(): NgxTimer {
    const s = this.#s;
    return (this.#timer ??= {
      at: (delay, callback, ...args) => createTimer(s, delay, false, callback, args),
      every: (interval, callback, ...args) => createTimer(s, interval, true, callback, args),
      runningCount: () => {
        allow(s, 'ngx.timer');
        return s.gen.timers.runningCount;
      },
      pendingCount: () => {
        allow(s, 'ngx.timer');
        return s.gen.timers.pendingCount;
      },
    });
  }

  get socket(): NgxSocket {
    return (this.#socket ??= ngxSocket(this.#s));
  }

  onAbort(handler: () => void): [true] | [undefined, string] {
    return onAbort(this.#s, handler);
  }

  get worker(): NgxWorker {
    const gen = this.#s.gen;
    return (this.#worker ??= {
      id: () => 0,
      count: () => 1,
      pid: () => process.pid,
      exiting: () => gen.exiting,
    });
  }

  get location(): NgxLocation {
    const s = this.#s;
    return (this.#location ??= {
      capture: (uri, options = {}) => {
        allow(s, 'ngx.location.capture');
        return capture(s, uri, options);
      },
      captureMulti: (requests) => {
        allow(s, 'ngx.location.capture');
        return Promise.all(requests.map(([uri, options]) => capture(s, uri, options ?? {})));
      },
    });
  }

  get ssl(): NgxSsl {
    const s = this.#s;
    const state = () => {
      allow(s, 'ngx.ssl');
      return (s.ssl ??= { serverName: undefined, cert: undefined, key: undefined });
    };
    return (this.#ssl ??= {
      serverName: () => state().serverName,
      setCert: (pem) => {
        if (typeof pem !== 'string' || !pem.includes('-----BEGIN')) throw new BadArgumentError('bad certificate: a PEM string is expected');
        state().cert = pem;
      },
      setPrivKey: (pem) => {
        if (typeof pem !== 'string' || !pem.includes('-----BEGIN')) throw new BadArgumentError('bad private key: a PEM string is expected');
        state().key = pem;
      },
      clearCerts: () => {
        const st = state();
        st.cert = undefined;
        st.key = undefined;
      },
    });
  }

  get balancer(): NgxBalancer {
    const s = this.#s;
    const state = () => {
      allow(s, 'ngx.balancer');
      return (s.balancer ??= { peer: undefined, moreTries: 0, lastFailure: undefined, timeouts: undefined });
    };
    return (this.#balancer ??= {
      setCurrentPeer: (host, port) => {
        if (typeof host !== 'string' || host === '') throw new BadArgumentError('bad argument #1 to \'set_current_peer\' (host expected)');
        if (!Number.isInteger(port) || port < 1 || port > 65535) throw new BadArgumentError(`bad port number: ${String(port)}`);
        state().peer = { host, port };
      },
      setMoreTries: (count) => {
        const st = state();
        // nginx caps tries at 128 (NGX_HTTP_LUA_BALANCER_MAX_TRIES... as lua-resty-core reports).
        if (count > 128) {
          st.moreTries = 128;
          return [false, 'reduced tries due to limit'];
        }
        st.moreTries = count;
        return [true];
      },
      getLastFailure: () => {
        const failure = state().lastFailure;
        return failure === undefined ? [undefined, undefined] : [failure[0], failure[1]];
      },
      setTimeouts: (connect, send, read) => {
        state().timeouts = { connect, send, read };
      },
    });
  }

  get isSubrequest(): boolean {
    return this.#s.parent !== undefined;
  }

  getPhase(): string {
    return PHASE_NGX_NAME[this.#s.phase];
  }

  log(level: number, ...values: Printable[]): void {
    const s = this.#s;
    const name = LOG_LEVEL_NAMES[level];
    if (name === undefined) throw new BadArgumentError(`bad log level: ${level}`);
    const parts: Chunk[] = [];
    pushPrintable(parts, values, 'log');
    s.engine.log(name, parts.map((p) => (typeof p === 'string' ? p : Buffer.from(p).toString())).join(''), s);
  }

  now(): number {
    return Math.floor(this.#s.engine.clock.now()) / 1000;
  }

  /** The request behind `ngx`, when it is one of phasekit's. */
  static stateOf(ngx: Ngx): RequestState | undefined {
    return #s in ngx ? (ngx as NgxRequest).#s : undefined;
  }

  /** For script runtimes: throws OpenResty's error unless `api` may run in this request's phase. */
  static check(ngx: Ngx, api: ApiName): void {
    if (!(#s in ngx)) throw new TypeError('not a phasekit request');
    const s = (ngx as NgxRequest).#s;
    if ((API_RULES[api] & s.phaseBit) === 0) checkApi(api, s.phase);
  }
}

/** Throws OpenResty's "API disabled ..." unless `api` may run in the phase `ngx`'s request is in. */
export function checkRequestApi(ngx: Ngx, api: ApiName): void {
  NgxRequest.check(ngx, api);
}

/** The bit (PHASE_BIT) of the phase `ngx`'s request is in; test it against the masks of phases/facts.ts. */
export function phaseBitOf(ngx: Ngx): number {
  const s = NgxRequest.stateOf(ngx);
  if (s === undefined) throw new TypeError('not a phasekit request');
  return s.phaseBit;
}
Object.assign(NgxRequest.prototype, NGX_CONSTANTS);

class Req implements NgxReq {
  readonly #s: RequestState;
  constructor(s: RequestState) {
    this.#s = s;
  }

  getMethod(): string {
    checkApi('ngx.req.get_method', this.#s.phase);
    return this.#s.method;
  }

  setMethod(method: string | number): void {
    checkApi('ngx.req.set_method', this.#s.phase);
    const name = typeof method === 'number' ? METHOD_BY_CODE.get(method) : method;
    if (name === undefined || !/^[A-Z]+$/.test(name)) throw new BadArgumentError(`unsupported HTTP method: ${String(method)}`);
    this.#s.method = name;
  }

  getHeaders(max = 100, raw = false): Record<string, HeaderValue> {
    const s = this.#s;
    checkApi('ngx.req.get_headers', s.phase);
    const out: Record<string, HeaderValue> = {};
    const rawHeaders = s.exchange.rawHeaders;
    const changed = s.reqHeaders;
    let n = 0;
    for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
      const name = rawHeaders[i] as string;
      const key = name.toLowerCase();
      if (changed?.has(key)) continue;
      if (max > 0 && n++ >= max) return out;
      addValue(out, raw ? name : key, rawHeaders[i + 1] as string);
    }
    if (changed !== undefined) {
      for (const [key, h] of changed) {
        if (h.value === undefined) continue;
        if (max > 0 && n++ >= max) return out;
        out[raw ? h.name : key] = Array.isArray(h.value) ? [...h.value] : h.value;
      }
    }
    return out;
  }

  setHeader(name: string, value: string | number | readonly (string | number)[] | null | undefined): void {
    const s = this.#s;
    checkApi('ngx.req.set_header', s.phase);
    const wire = wireHeaderName(name);
    let stored: string | string[] | undefined;
    if (value === null || value === undefined) stored = undefined;
    else if (Array.isArray(value)) stored = value.map((v) => wireHeaderValue(String(v)));
    else stored = wireHeaderValue(String(value));
    (s.reqHeaders ??= new Map()).set(wire.toLowerCase(), { name: wire, value: stored });
  }

  clearHeader(name: string): void {
    checkApi('ngx.req.clear_header', this.#s.phase);
    this.setHeader(name, undefined);
  }

  getUriArgs(max = 100): Args {
    checkApi('ngx.req.get_uri_args', this.#s.phase);
    return decodeArgs(this.#s.args, max)[0];
  }

  setUriArgs(args: string | ArgsInput): void {
    checkApi('ngx.req.set_uri_args', this.#s.phase);
    this.#s.args = typeof args === 'string' ? args : encodeArgs(args);
  }

  setUri(uri: string, jump = false): void {
    const s = this.#s;
    checkApi('ngx.req.set_uri', s.phase);
    if (typeof uri !== 'string' || uri === '') throw new BadArgumentError("bad argument #1 to 'set_uri' (uri expected)");
    if (UNSAFE_URI_BYTE.test(uri)) throw new BadArgumentError(`unsafe byte in uri "${uri}"`);
    if (jump) {
      if (s.phase !== 'rewrite') throw new ApiDisabledError('ngx.req.set_uri', `API disabled in the context of ${PHASE_CONTEXT_NAME[s.phase]}`);
      s.exec = { uri, args: undefined, named: false, resetCtx: false };
    }
    s.uri = uri;
  }

  /** Misuse throws at once (not as a rejection), as the Lua API raises. */
  readBody(): Promise<void> {
    const s = this.#s;
    checkApi('ngx.req.read_body', s.phase);
    if (s.bodyRead || s.bodySocket !== undefined) return Promise.resolve();
    const read = s.exchange.readBody(s.engine.clientMaxBodySize).catch((err: unknown) => {
      // Remembered on the request, so the 413 holds whatever runtime carries the error up.
      if (err instanceof BodyTooLargeError) s.bodyTooLarge = err;
      throw err;
    });
    return read.then(async (body) => {
      s.bodyRead = true;
      if (body.byteLength === 0) return;
      if (body.byteLength <= s.engine.clientBodyBufferSize) {
        s.body = body;
        return;
      }
      // As nginx: a body over client_body_buffer_size lives in a temp file, removed after the request.
      s.bodyFile = await writeBodyFile(body);
    });
  }

  getBodyData(): string | undefined {
    const s = this.#s;
    checkApi('ngx.req.get_body_data', s.phase);
    return s.body === undefined ? undefined : Buffer.from(s.body.buffer, s.body.byteOffset, s.body.byteLength).toString();
  }

  getPostArgs(max = 100): Args {
    const s = this.#s;
    checkApi('ngx.req.get_post_args', s.phase);
    if (!s.bodyRead) throw new BodyNotReadError();
    return decodeArgs(this.getBodyData() ?? '', max)[0];
  }

  getBodyBuffer(): Uint8Array | undefined {
    const s = this.#s;
    checkApi('ngx.req.get_body_data', s.phase);
    return s.body;
  }

  getBodyFile(): string | undefined {
    checkApi('ngx.req.get_body_data', this.#s.phase);
    return this.#s.bodyFile;
  }

  socket(raw = false): [RequestSocket] | [null, string] {
    return requestSocket(this.#s, raw);
  }

  discardBody(): void {
    const s = this.#s;
    checkApi('ngx.req.discard_body', s.phase);
    s.body = undefined;
    s.bodyRead = true;
  }

  setBodyData(data: string | Uint8Array): void {
    const s = this.#s;
    checkApi('ngx.req.set_body_data', s.phase);
    if (!s.bodyRead) throw new BodyNotReadError();
    s.body = typeof data === 'string' ? Buffer.from(data) : data;
    dropBodyFile(s);
  }

  initBody(): void {
    const s = this.#s;
    checkApi('ngx.req.set_body_data', s.phase);
    if (!s.bodyRead) throw new BodyNotReadError();
    s.newBody = [];
  }

  appendBody(data: string | Uint8Array): void {
    const s = this.#s;
    checkApi('ngx.req.set_body_data', s.phase);
    if (s.newBody === undefined) throw new BadArgumentError('request body not initialized by ngx.req.init_body()');
    s.newBody.push(typeof data === 'string' ? Buffer.from(data) : data);
  }

  finishBody(): void {
    const s = this.#s;
    checkApi('ngx.req.set_body_data', s.phase);
    if (s.newBody === undefined) throw new BadArgumentError('request body not initialized by ngx.req.init_body()');
    s.body = Buffer.concat(s.newBody);
    dropBodyFile(s);
    s.newBody = undefined;
  }

  httpVersion(): number {
    return Number(this.#s.exchange.httpVersion);
  }

  startTime(): number {
    return this.#s.start / 1000;
  }

  isInternal(): boolean {
    return this.#s.redirects > 0;
  }
}

function addValue(out: Record<string, HeaderValue>, key: string, value: string): void {
  const prev = out[key];
  if (prev === undefined) out[key] = value;
  else if (Array.isArray(prev)) prev.push(value);
  else out[key] = [prev, value];
}

/** Past the header filter, header changes are logged and ignored, as OpenResty does. */
function headerLocked(s: RequestState): boolean {
  if (!s.headersSent || s.phase === 'headerFilter') return false;
  s.engine.log('error', 'attempt to set ngx.header.HEADER after sending out response headers', s);
  return true;
}

/** `\r` → `\x0D`, as OpenResty quotes a URI in its unsafe-byte errors. */
function escapeUnsafe(uri: string): string {
  return uri.replace(new RegExp(UNSAFE_URI_BYTE.source, 'g'), (c) => '\\x' + c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0'));
}

function createTimer(s: RequestState, delay: number, every: boolean, callback: TimerCallback, args: unknown[]): [TimerHandle, undefined] | [undefined, string] {
  allow(s, 'ngx.timer');
  const fn = every ? 'every' : 'at';
  if (typeof delay !== 'number' || !Number.isFinite(delay) || delay < 0) throw new BadArgumentError(`bad argument #1 to '${fn}' (number expected)`);
  if (every && delay === 0) throw new BadArgumentError('bad "delay" argument: 0');
  if (typeof callback !== 'function') throw new BadArgumentError(`bad argument #2 to '${fn}' (function expected, got ${typeof callback})`);
  return s.gen.timers.create(delay, every, callback, args);
}

/** The body was replaced: its temp file goes now, not at the end of the request. */
function dropBodyFile(s: RequestState): void {
  if (s.bodyFile === undefined) return;
  unlink(s.bodyFile).catch(() => undefined);
  s.bodyFile = undefined;
}

async function writeBodyFile(body: Uint8Array): Promise<string> {
  const path = join(tmpdir(), `phasekit-body-${process.pid}-${randomUUID()}`);
  await writeFile(path, body, { mode: 0o600 });
  return path;
}

/** checkApi, with the common allowed case decided inline. */
function allow(s: RequestState, api: ApiName): void {
  if ((API_RULES[api] & s.phaseBit) === 0) checkApi(api, s.phase);
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
    responseHeaders(s).set(name, value as HeaderValue | number | boolean | null | undefined);
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

function headerProxy(s: RequestState): Ngx['header'] {
  return new Proxy(s, HEADER_TRAPS) as unknown as Ngx['header'];
}

const VAR_TRAPS: ProxyHandler<RequestState> = {
  get(s, name) {
    if (typeof name !== 'string') return undefined;
    allow(s, 'ngx.var');
    return readVar(s, name);
  },
  set(s, name, value) {
    if (typeof name !== 'string') return false;
    allow(s, 'ngx.var=');
    writeVar(s, name, typeof value === 'number' ? formatNumber(value) : value);
    return true;
  },
  has: () => false,
  ownKeys: () => [],
  getOwnPropertyDescriptor: () => undefined,
};

function varProxy(s: RequestState): Ngx['var'] {
  return new Proxy(s, VAR_TRAPS) as unknown as Ngx['var'];
}
