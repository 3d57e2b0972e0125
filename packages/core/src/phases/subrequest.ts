// ngx.location.capture / capture_multi: subrequests through the same pipeline, answered in memory.

import { encodeArgs, type ArgsInput } from '../text/args.js';
import { METHOD_BY_CODE } from '../ngx/constants.js';
import { BadArgumentError, PhasekitError } from '../errors.js';
import type { HttpExchange } from '../http/exchange.js';
import { joinChunks } from '../text/format.js';
import { normalizeUri } from '../http/location.js';
import type { Chunk, HeaderValue } from '../ngx/types.js';
import { openRequest } from '../request/lifecycle.js';
import type { RequestState } from '../request/state.js';
import { advance } from './pipeline.js';

/** nginx's limit on nested subrequests. */
export const MAX_SUBREQUEST_DEPTH = 50;

export interface CaptureOptions {
  /** ngx.HTTP_GET … or a method name; default GET. */
  method?: number | string;
  /** The subrequest's body (default: none, or the parent's with always_forward_body). */
  body?: string | Uint8Array;
  args?: string | ArgsInput;
  /** The subrequest's ngx.ctx (shared with the caller when it passes its own). */
  ctx?: Record<string, unknown>;
  /** Values for variables the target location declares. */
  vars?: Record<string, string>;
  /** Start with a copy of the caller's declared variables. */
  copy_all_vars?: boolean;
  /** Share the caller's declared variables (writes are seen by both). */
  share_all_vars?: boolean;
  /** Forward the caller's body (read with readBody) even for GET subrequests. */
  always_forward_body?: boolean;
}

export interface CaptureResult {
  status: number;
  /** Response headers as sent; repeated ones as arrays. */
  header: Record<string, HeaderValue>;
  body: string;
  /** The body as bytes, for binary responses. */
  bodyBytes: Uint8Array;
  /** The response was cut short (the subrequest failed after output began). */
  truncated: boolean;
}

/** What the facade needs to start a subrequest from the state it is called in. */
export function capture(parent: RequestState, uri: string, options: CaptureOptions): Promise<CaptureResult> {
  if (parent.depth + 1 > MAX_SUBREQUEST_DEPTH) {
    return Promise.reject(new PhasekitError('PHASEKIT_ERR_SUBREQUEST', `subrequests cycle while processing "${uri}"`));
  }
  let path = uri;
  let query = '';
  const q = uri.indexOf('?');
  if (q !== -1) {
    path = uri.slice(0, q);
    query = uri.slice(q + 1);
  }
  if (options.args !== undefined) {
    const extra = typeof options.args === 'string' ? options.args : encodeArgs(options.args);
    query = query === '' ? extra : `${query}&${extra}`;
  }
  if (!path.startsWith('/')) {
    // "@named" or "x": no location matches such a URI, so the subrequest answers 404 (as nginx)
    return Promise.resolve(new CapturedResponse().toResult(404, {}));
  }
  const normalized = normalizeUri(path);
  if (normalized === undefined) return Promise.reject(new BadArgumentError(`bad uri for ngx.location.capture: "${uri}"`));
  const method = typeof options.method === 'number' ? METHOD_BY_CODE.get(options.method) : (options.method ?? 'GET');
  if (method === undefined) return Promise.reject(new BadArgumentError(`unsupported HTTP method: ${String(options.method)}`));
  const body = options.body ?? (options.always_forward_body || method === 'POST' || method === 'PUT' ? parent.body : undefined);

  const found = parent.gen.locations.find(normalized);
  const result = new CapturedResponse();
  const exchange = subExchange(parent, method, query === '' ? normalized : `${normalized}?${query}`, options.body, body, result);
  if (found === undefined) return Promise.resolve(result.toResult(404, {}));

  const loc = found.location;
  for (const k of Object.keys(options.vars ?? {})) {
    // nginx sets only variables the config declares; any other fails the subrequest
    if (!parent.gen.declaredVars.has(k.toLowerCase())) return Promise.reject(new BadArgumentError('failed to adjust the subrequest: -1'));
  }

  return new Promise<CaptureResult>((resolve) => {
    const s = openRequest(parent.engine, parent.gen, { kind: 'subrequest', exchange, location: loc, uri: normalized, args: query, captures: found.captures, parent });
    if (options.ctx !== undefined) s.ctx = options.ctx;
    // The child's own `vars` run at the start of its walk, after these (nginx's order).
    if (options.share_all_vars) s.vars = parent.vars ??= new Map();
    else if (options.copy_all_vars && parent.vars !== undefined) s.vars = new Map(parent.vars);
    for (const [k, v] of Object.entries(options.vars ?? {})) (s.vars ??= new Map()).set(k.toLowerCase(), v);
    if (s.body === undefined && body !== undefined) {
      s.body = typeof body === 'string' ? Buffer.from(body) : body;
      s.bodyRead = true;
    }
    s.onDone = () => resolve(result.toResult(s.status, s.headers?.toRecord(0, true) ?? {}));
    advance(s);
  });
}

/** The response of a subrequest, collected in memory. */
class CapturedResponse {
  chunks: Chunk[] = [];
  aborted = false;

  toResult(status: number, headers: Record<string, HeaderValue>): CaptureResult {
    // Content-Type is nginx's own field: res.header names it "Content-Type" however it was set.
    const header = Object.create(null) as Record<string, HeaderValue>;
    for (const [k, v] of Object.entries(headers)) header[k.toLowerCase() === 'content-type' ? 'Content-Type' : k] = v;
    const joined = joinChunks(this.chunks.length > 0 ? this.chunks : ['']);
    const bytes = typeof joined === 'string' ? Buffer.from(joined) : joined;
    return {
      status: this.aborted && status < 200 ? 500 : status,
      header,
      body: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString(),
      bodyBytes: bytes,
      truncated: this.aborted,
    };
  }
}

function subExchange(parent: RequestState, method: string, url: string, own: CaptureOptions['body'], body: Uint8Array | string | undefined, result: CapturedResponse): HttpExchange {
  const p = parent.exchange;
  const bytes = typeof body === 'string' ? Buffer.from(body) : (body ?? new Uint8Array(0));
  // A body of the capture's own comes with its Content-Length request header, as nginx sets it.
  const [headers, rawHeaders] = own === undefined ? [p.headers, p.rawHeaders] : withContentLength(p, bytes.byteLength);
  return {
    method,
    url,
    httpVersion: p.httpVersion,
    headers,
    rawHeaders,
    remoteAddress: p.remoteAddress,
    remotePort: p.remotePort,
    localAddress: p.localAddress,
    localPort: p.localPort,
    secure: p.secure,
    readBody: () => Promise.resolve(bytes),
    respond: (_status, _headers, chunk) => {
      if (chunk !== null) result.chunks.push(chunk);
    },
    writeHead: () => undefined,
    write: (chunk) => {
      result.chunks.push(chunk);
      return true;
    },
    end: (done) => done?.(false),
    drained: () => Promise.resolve(),
    abort: () => {
      result.aborted = true;
    },
  };
}

function withContentLength(p: HttpExchange, length: number): [HttpExchange['headers'], HttpExchange['rawHeaders']] {
  const raw: string[] = [];
  for (let i = 0; i + 1 < p.rawHeaders.length; i += 2) {
    if ((p.rawHeaders[i] as string).toLowerCase() !== 'content-length') raw.push(p.rawHeaders[i] as string, p.rawHeaders[i + 1] as string);
  }
  raw.push('Content-Length', String(length));
  return [{ ...p.headers, 'content-length': String(length) }, raw];
}
