// A request that arrived through node:http's `upgrade` event (WebSocket handshakes): the engine's
// answer is written on the raw connection, and ngx.req.socket(true) can take the connection over.

import type { IncomingMessage } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex, Readable } from 'node:stream';
import { answerPage, reasonPhrase, type Chunk, type Engine, type HeaderValue, type HttpExchange } from '@phasekit/core';
import { IncomingRequest } from './incoming.js';

export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

/**
 * `(req, socket, head)` for a server's `upgrade` event: a request whose path matches a location
 * is the engine's (ngx.req.socket(true) gets the connection); any other goes to `next` when
 * given, else gets nginx's 404 page.
 */
export function createUpgradeHandler(engine: Engine, next?: UpgradeHandler): UpgradeHandler {
  return function phasekitUpgrade(req, socket, head) {
    const exchange = new UpgradeExchange(req, socket, head);
    let handled: boolean;
    try {
      handled = engine.handle(exchange);
    } catch {
      answerPage(exchange, 503, true);
      return;
    }
    if (handled) return;
    if (next !== undefined) return next(req, socket, head);
    answerPage(exchange, 404, true);
  };
}

const CRLF = '\r\n';

/** Responses are written as HTTP/1.1 on the connection: the connection closes after them unless it was taken (101). */
export class UpgradeExchange extends IncomingRequest implements HttpExchange {
  readonly #socket: Duplex;
  readonly #head: Buffer;
  #taken = false;
  /** The status line and headers, until they are written. */
  #pending: string | undefined;
  #headSent = false;
  #chunked = false;
  #ended = false;

  constructor(req: IncomingMessage, socket: Duplex, head: Buffer) {
    super(req);
    this.#socket = socket;
    this.#head = head;
    socket.on('error', () => undefined);
  }


  /** An upgrade request's bytes after its head belong to the new protocol: the HTTP body is empty. */
  readBody(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(0));
  }

  bodyStream(): Readable | undefined {
    return undefined;
  }

  takeConnection(): { socket: Duplex; head: Uint8Array } | undefined {
    if (this.#taken || this.#socket.destroyed) return undefined;
    this.flushHeaders();
    this.#taken = true;
    return { socket: this.#socket, head: this.#head };
  }

  onClientAbort(fn: () => void): () => void {
    const onClose = () => {
      if (!this.#ended) fn();
    };
    this.#socket.once('close', onClose);
    return () => this.#socket.off('close', onClose);
  }

  respond(status: number, headers: Record<string, HeaderValue>, body: Chunk | null): void {
    if (this.#headSent || this.#taken) return;
    this.writeHead(status, headers);
    this.#chunked = false;
    this.flushHeaders();
    if (body !== null) this.#socket.write(body);
    this.#finish();
  }

  writeHead(status: number, headers: Record<string, HeaderValue>): void {
    if (this.#headSent || this.#taken) return;
    const lines = [`HTTP/1.1 ${status} ${reasonPhrase(status) ?? STATUS_CODES[status] ?? ''}`];
    let length = false;
    let connection = false;
    for (const [name, value] of Object.entries(headers)) {
      const lower = name.toLowerCase();
      if (lower === 'content-length') length = true;
      if (lower === 'connection') connection = true;
      for (const v of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${v}`);
    }
    if (!connection) lines.push(status === 101 ? 'Connection: upgrade' : 'Connection: close');
    this.#chunked = status !== 101 && !length && status >= 200 && status !== 204 && status !== 304 && this.method !== 'HEAD';
    if (this.#chunked) lines.push('Transfer-Encoding: chunked');
    lines.push(`Date: ${new Date().toUTCString()}`);
    this.#pending = lines.join(CRLF) + CRLF + CRLF;
  }

  flushHeaders(): void {
    if (this.#pending === undefined || this.#headSent) return;
    this.#headSent = true;
    this.#socket.write(this.#pending);
    this.#pending = undefined;
  }

  write(chunk: Chunk): boolean {
    if (this.#taken || this.#ended || this.#socket.destroyed) return true;
    this.flushHeaders();
    const n = typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
    if (n === 0) return true;
    if (!this.#chunked) return this.#socket.write(chunk);
    this.#socket.write(`${n.toString(16)}${CRLF}`);
    this.#socket.write(chunk);
    return this.#socket.write(CRLF);
  }

  end(done?: (aborted: boolean) => void): void {
    if (this.#taken) {
      // The handler owns the connection; it closes when the request's sockets are released.
      done?.(this.#socket.destroyed);
      return;
    }
    if (!this.#ended) {
      this.flushHeaders();
      if (this.#chunked) this.#socket.write(`0${CRLF}${CRLF}`);
      this.#finish();
    }
    done?.(false);
  }

  #finish(): void {
    this.#ended = true;
    this.#socket.end();
  }

  drained(): Promise<void> {
    const socket = this.#socket;
    if (!socket.writableNeedDrain || socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      const settle = () => {
        socket.off('drain', settle);
        socket.off('close', settle);
        resolve();
      };
      socket.once('drain', settle);
      socket.once('close', settle);
    });
  }

  abort(): void {
    this.#socket.destroy();
  }
}
