// ngx.req for TypeScript handlers: method, headers, URI and args, body.

import { randomUUID } from 'node:crypto';
import { unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiDisabledError, BadArgumentError, BodyNotReadError } from '../errors.js';
import { BodyTooLargeError } from '../http/exchange.js';
import { wireHeaderName, wireHeaderValue } from '../http/headers.js';
import { checkApi } from '../phases/api-rules.js';
import { PHASE_CONTEXT_NAME } from '../phases/facts.js';
import type { RequestState } from '../request/state.js';
import type { RequestSocket } from '../socket/index.js';
import { argsRecord, encodeArgs, parseArgs, type Args, type ArgsInput } from '../text/args.js';
import { METHOD_BY_CODE } from './constants.js';
import { UNSAFE_URI_BYTE } from './output.js';
import { requestSocket } from './socket.js';
import type { HeaderValue, NgxReq } from './types.js';

export class Req implements NgxReq {
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

  rawHeader(noRequestLine = false): string {
    const s = this.#s;
    checkApi('ngx.req.raw_header', s.phase);
    const ex = s.exchange;
    let out = noRequestLine ? '' : `${ex.method} ${s.requestUri} HTTP/${ex.httpVersion}\r\n`;
    const raw = ex.rawHeaders;
    for (let i = 0; i + 1 < raw.length; i += 2) out += `${raw[i] as string}: ${raw[i + 1] as string}\r\n`;
    return out + '\r\n';
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
    return argsRecord(parseArgs(this.#s.args, max, 'entries').pairs);
  }

  setUriArgs(args: string | ArgsInput): void {
    checkApi('ngx.req.set_uri_args', this.#s.phase);
    this.#s.args = typeof args === 'string' ? args : encodeArgs(args);
  }

  setUri(uri: string, jump = false): void {
    const s = this.#s;
    checkApi('ngx.req.set_uri', s.phase);
    if (typeof uri !== 'string') throw new BadArgumentError("bad argument #1 to 'set_uri' (uri expected)");
    if (uri === '') throw new BadArgumentError('attempt to use zero-length uri');
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
    return argsRecord(parseArgs(s.body ?? '', max, 'entries').pairs);
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
    if (!s.bodyRead) throw new BodyNotReadError('request body not read yet');
    replaceBody(s, typeof data === 'string' ? Buffer.from(data) : data);
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
    if (s.newBody === undefined) throw new BadArgumentError('request_body not initialized');
    s.newBody.push(typeof data === 'string' ? Buffer.from(data) : data);
  }

  finishBody(): void {
    const s = this.#s;
    checkApi('ngx.req.set_body_data', s.phase);
    if (s.newBody === undefined) throw new BadArgumentError('request_body not initialized');
    replaceBody(s, Buffer.concat(s.newBody));
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

/**
 * A new request body, as nginx's set_body_data/finish_body leave it: the Content-Length request
 * header follows it, an empty body reads as none, and the old temp file goes now.
 */
function replaceBody(s: RequestState, body: Uint8Array): void {
  s.body = body.byteLength === 0 ? undefined : body;
  (s.reqHeaders ??= new Map()).set('content-length', { name: 'Content-Length', value: String(body.byteLength) });
  dropBodyFile(s);
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
