// The `ngx` API that TypeScript handlers receive: OpenResty's names, camelCase for snake_case.

import type { Args, ArgsInput } from '../text/args.js';
import type { NgxConstants } from './constants.js';
import type { AnySharedDict } from '../shared-dict/index.js';
import type { CaptureOptions, CaptureResult } from '../phases/subrequest.js';
import type { TimerCallback, TimerHandle } from '../engine/timers.js';
import type { ConnectOptions, Pending, RequestSocket, TcpCosocket, UdpCosocket } from '../socket/index.js';

/** What ngx.say / ngx.print accept; arrays are flattened, as OpenResty does with Lua tables. */
export type Printable = string | number | boolean | null | undefined | Uint8Array | readonly Printable[];

/** A body chunk: text, or bytes when the body is binary. */
export type Chunk = string | Uint8Array;

/** `ngx.arg` in body_filter: the chunk (writable; '' drops it) and whether it is the last. */
export interface BodyFilterArg {
  chunk: Chunk;
  eof: boolean;
}

export type HeaderValue = string | string[];

export interface NgxReq {
  getMethod(): string;
  /** A method name ("POST") or an ngx.HTTP_* method constant. */
  setMethod(method: string | number): void;
  /** Request headers, names lower-cased (original case with `raw`); repeated ones as arrays. */
  getHeaders(max?: number, raw?: boolean): Record<string, HeaderValue>;
  /** The request line and header lines as the client sent them, each ending in CRLF, then CRLF. */
  rawHeader(noRequestLine?: boolean): string;
  setHeader(name: string, value: string | number | readonly (string | number)[] | null | undefined): void;
  clearHeader(name: string): void;
  getUriArgs(max?: number): Args;
  setUriArgs(args: string | ArgsInput): void;
  /** Changes $uri; with `jump` (rewrite phase only) location matching starts again. */
  setUri(uri: string, jump?: boolean): void;
  /** Reads the whole request body (rewrite, access, content). */
  readBody(): Promise<void>;
  /** The body read by readBody(), as text (undefined when there is none or it was not read). */
  getBodyData(): string | undefined;
  getPostArgs(max?: number): Args;
  /** The body read by readBody(), as bytes. */
  getBodyBuffer(): Uint8Array | undefined;
  /** The file holding a body larger than clientBodyBufferSize (getBodyData() is undefined then). */
  getBodyFile(): string | undefined;
  /** The body will not be read (it is drained and dropped). */
  discardBody(): void;
  /**
   * ngx.req.socket: the request body as a read-only cosocket (rewrite, access, content), or with
   * `raw` the client connection of an upgraded request (also writable). `[socket]` or `[null, reason]`.
   */
  socket(raw?: boolean): [RequestSocket] | [null, string];
  /** Replaces the request body (what subrequests and getBodyData see). */
  setBodyData(data: string | Uint8Array): void;
  /** Starts building a new request body with appendBody() and finishBody(). */
  initBody(): void;
  appendBody(data: string | Uint8Array): void;
  finishBody(): void;
  httpVersion(): number;
  /** When the request started, in seconds since the epoch (with milliseconds). */
  startTime(): number;
  /** True after an internal redirect (exec). */
  isInternal(): boolean;
}

export interface NgxResp {
  getHeaders(max?: number, raw?: boolean): Record<string, HeaderValue>;
}

export interface NgxTimer {
  /**
   * Runs `callback(ngx, premature, ...args)` after `delay` seconds, in the timer phase.
   * Returns `[handle, undefined]`, or `[undefined, "too many pending timers"]`.
   */
  at(delay: number, callback: TimerCallback, ...args: unknown[]): [TimerHandle, undefined] | [undefined, string];
  /** Like `at`, again every `interval` seconds (0 is refused). */
  every(interval: number, callback: TimerCallback, ...args: unknown[]): [TimerHandle, undefined] | [undefined, string];
  runningCount(): number;
  pendingCount(): number;
}

export interface NgxLocation {
  /** A subrequest to `uri` through the same locations (internal ones too), answered in memory. */
  capture(uri: string, options?: CaptureOptions): Promise<CaptureResult>;
  /** Several subrequests at once; results in the same order. */
  captureMulti(requests: readonly (readonly [uri: string, options?: CaptureOptions])[]): Promise<CaptureResult[]>;
}

/** ngx.ssl in the sslCertificate phase: choose the certificate for a TLS handshake. */
export interface NgxSsl {
  /** The SNI server name the client asked for, or undefined. */
  serverName(): string | undefined;
  /** The certificate (chain) to present, PEM. */
  setCert(pem: string): void;
  /** Its private key, PEM. */
  setPrivKey(pem: string): void;
  /** Drops what was set (the server's default certificate is used unless another is set). */
  clearCerts(): void;
}

/** ngx.balancer in the balancer phase: pick the peer, tries and timeouts of this try. */
export interface NgxBalancer {
  /** The peer for this try. */
  setCurrentPeer(host: string, port: number): void;
  /** Allows `count` more tries after this one; returns [true] or [false, reason] past the limit. */
  setMoreTries(count: number): [true] | [false, string];
  /** How the previous try ended: ["failed", undefined] or ["next", status]; [undefined, undefined] on the first. */
  getLastFailure(): [state: 'failed' | 'next' | undefined, status: number | undefined];
  /** Seconds; undefined keeps the location's. */
  setTimeouts(connect?: number, send?: number, read?: number): void;
}

/** ngx.socket: cosockets (rewrite, access, content, timers, sslCertificate, and log). */
export interface NgxSocket {
  tcp(): TcpCosocket;
  udp(): UdpCosocket;
  /** tcp() + connect(): `[socket]` or `[null, err]`. */
  connect(host: string, port?: number, options?: ConnectOptions): [TcpCosocket] | [null, string] | Pending<[TcpCosocket] | [null, string]>;
}

export interface NgxWorker {
  id(): number;
  count(): number;
  pid(): number;
  /** Every worker's pid, in id order. Not in init and initWorker (as OpenResty: "API disabled in the current context"). */
  pids(): number[];
  /** True once the engine is closing or being reloaded. */
  exiting(): boolean;
}

export interface Ngx extends NgxConstants {
  /**
   * Buffers one chunk of output (body_filter sees it alone); false once the body has ended
   * (ngx.eof: Lua's `nil, "seen eof"`) or the client has gone (`nil, "nginx output filter error"`).
   */
  say(...values: Printable[]): boolean;
  print(...values: Printable[]): boolean;
  /**
   * Ends the current phase. OK (0) in rewrite/access goes on to the next phase; a status
   * >= 200 ends the request phases. In TypeScript it returns: write `return ngx.exit(403)`.
   */
  exit(status: number): void;
  /**
   * Sends what is buffered now (the headers first, through header_filter, if not sent yet);
   * with `wait`, resolves once the client has taken it (backpressure). Resolves to `[1]`, or to
   * `[undefined, 'nginx output filter error']` when the client has gone, as Lua's returns `nil, err`.
   */
  flush(wait?: boolean): Promise<[1] | [undefined, string]>;
  /** Ends the response now; the handler may go on (its output is discarded). False if it had ended already. */
  eof(): boolean;
  /** Sends the status and headers now (header_filter runs). */
  sendHeaders(): void;
  /** True once output has started (OpenResty: the headers were sent). */
  readonly headersSent: boolean;
  /** Internal redirect: matching starts again at rewrite for `uri`; ngx.ctx starts empty. */
  exec(uri: string, args?: string | ArgsInput): void;
  /** Answers with a Location header; 301, 302 (default), 303, 307 or 308. */
  redirect(url: string, status?: number): void;
  status: number;
  /** Response headers: `ngx.header['X-A'] = 'b'`, `ngx.header.content_type`, undefined clears. */
  readonly header: Record<string, HeaderValue | number | boolean | null | undefined>;
  /** nginx variables, as strings; only declared variables (and a few built-ins) are writable. */
  readonly var: Record<string, string | number | null | undefined>;
  /** Per-request table, shared by the phases of one request. */
  ctx: Record<string, unknown>;
  readonly arg: BodyFilterArg;
  readonly req: NgxReq;
  readonly resp: NgxResp;
  readonly shared: Readonly<Record<string, AnySharedDict>>;
  readonly timer: NgxTimer;
  readonly location: NgxLocation;
  readonly ssl: NgxSsl;
  readonly balancer: NgxBalancer;
  readonly worker: NgxWorker;
  readonly socket: NgxSocket;
  /**
   * Runs `handler` when the client closes the connection early (needs `checkClientAbort`): `[true]`,
   * or `[undefined, "lua_check_client_abort is off" | "duplicate call"]`.
   */
  onAbort(handler: () => void): [true] | [undefined, string];
  readonly isSubrequest: boolean;
  getPhase(): string;
  log(level: number, ...values: Printable[]): void;
  /** Seconds since the epoch, with milliseconds, from the engine's clock. */
  now(): number;
}
