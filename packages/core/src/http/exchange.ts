// The contract between core and a server adapter: one request in, one response out.

import type { Duplex, Readable } from 'node:stream';
import { BrandedError, type HandlerError } from '../errors.js';
import type { LogEntry } from '../log.js';
import type { Chunk, HeaderValue } from '../ngx/types.js';
import { defaultPage } from '../text/status.js';

export type IncomingHeaders = Readonly<Record<string, string | string[] | undefined>>;

/**
 * One HTTP exchange as an adapter hands it to the engine. Adapters translate; every
 * decision about the request is the engine's.
 */
export interface HttpExchange {
  readonly method: string;
  /** The request target as received (`/a/b?x=1`). */
  readonly url: string;
  /** `"1.1"`, `"1.0"`, `"2.0"`. */
  readonly httpVersion: string;
  /** Header names lower-cased, as Node gives them. */
  readonly headers: IncomingHeaders;
  /** Names and values as received, alternating. */
  readonly rawHeaders: readonly string[];
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  readonly secure: boolean;
  /** Reads the whole body; rejects with a RequestBodyTooLarge-style error past `limit` bytes. */
  readBody(limit: number): Promise<Uint8Array>;
  /**
   * The request body as a stream, not read yet (ngx.req.socket reads it piece by piece). Hosts
   * that cannot stream it leave this out (ngx.req.socket then answers nil and a reason).
   */
  bodyStream?(): Readable | undefined;
  /**
   * An upgraded request (node:http's `upgrade` event): hands the client connection over, with the
   * bytes that followed the request head (ngx.req.socket(true)). Undefined when this exchange has
   * no connection to give; after it, the response is the handler's to write on the connection.
   */
  takeConnection?(): { socket: Duplex; head: Uint8Array } | undefined;
  /**
   * Calls `fn` once if the client closes the connection before the response is finished
   * (checkClientAbort). Returns a function that stops watching.
   */
  onClientAbort?(fn: () => void): () => void;
  /**
   * True once the client's connection is gone before the response finished: output calls then
   * fail (`nil, "nginx output filter error"`), as nginx's do once its writes fail.
   */
  clientGone?(): boolean;
  /** Sends the whole response at once; `body` null sends none (HEAD, 204, 304). */
  respond(status: number, headers: Record<string, HeaderValue>, body: Chunk | null): void;
  /** Streaming: sets the status line and headers; they go out with the first chunk. */
  writeHead(status: number, headers: Record<string, HeaderValue>): void;
  /** Streaming: sends the headers now, before any body (ngx.send_headers, an empty ngx.flush). */
  flushHeaders?(): void;
  /** Streaming: sends a body chunk; false when the client is not keeping up (wait for drained()). */
  write(chunk: Chunk): boolean;
  /** Streaming: ends the body; `done(aborted)` is called once it is handed over, or the client went away. */
  end(done?: (aborted: boolean) => void): void;
  /** Resolves when the client has taken what was written (or the connection closed). */
  drained(): Promise<void>;
  /** Closes the connection without a response (ngx.exit(ngx.ERROR), 444). */
  abort(): void;
  /**
   * Where this request's error-log entries go, when the host has a per-request logger
   * (Fastify's request.log); otherwise the engine's logger. Levels are filtered first.
   */
  log?(entry: LogEntry): void;
  /**
   * A handler of this request failed before any output, and the engine is about to answer with
   * nginx's 500 page. Return true to answer it yourself instead (Express hands it to its error
   * middleware): the engine then sends nothing, and the log phase still runs. Without this
   * method, or when it returns false, the engine answers. It is called once, after the error
   * was logged; an error after output began closes the connection as nginx does, without asking.
   */
  answerFailure?(error: HandlerError): boolean;
}

/** Thrown by `readBody` when the body is over the limit (the engine answers 413). */
export class BodyTooLargeError extends BrandedError {
  constructor(limit: number) {
    super(`client intended to send too large body: more than ${limit} bytes`);
    this.name = 'BodyTooLargeError';
  }
}

/** The Host of a request as nginx matches server names: lower case, without the port ("" when absent). */
export function requestHost(exchange: HttpExchange): string {
  const raw = exchange.headers.host;
  const h = (Array.isArray(raw) ? raw[0] : raw) ?? '';
  const end = h.startsWith('[') ? h.indexOf(']') + 1 : h.lastIndexOf(':');
  return (end > 0 ? h.slice(0, end) : h).replace(/\.$/, '').toLowerCase();
}

/**
 * Answers with nginx's page for `status` (400 for a bad path, 404 for no location, 503 when
 * the engine is closed): the one way every adapter sends an engine-made page.
 */
export function answerPage(exchange: HttpExchange, status: number, close = false): void {
  const page = defaultPage(status) ?? '';
  const headers: Record<string, HeaderValue> = { 'Content-Type': 'text/html', 'Content-Length': String(Buffer.byteLength(page)) };
  if (close) headers.Connection = 'close';
  exchange.respond(status, headers, exchange.method === 'HEAD' ? null : page);
}
