// Node's IncomingMessage/ServerResponse seen as core's HttpExchange.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { BodyTooLargeError, reasonPhrase, type Chunk, type HeaderValue, type HttpExchange, type IncomingHeaders } from '@phasekit/core';

export class NodeExchange implements HttpExchange {
  readonly #req: IncomingMessage;
  readonly #res: ServerResponse;

  constructor(req: IncomingMessage, res: ServerResponse) {
    this.#req = req;
    this.#res = res;
  }

  get method(): string {
    return this.#req.method ?? 'GET';
  }
  get url(): string {
    return this.#req.url ?? '/';
  }
  get httpVersion(): string {
    return this.#req.httpVersion;
  }
  get headers(): IncomingHeaders {
    return this.#req.headers;
  }
  get rawHeaders(): readonly string[] {
    return this.#req.rawHeaders;
  }
  get remoteAddress(): string {
    return this.#req.socket.remoteAddress ?? '';
  }
  get remotePort(): number {
    return this.#req.socket.remotePort ?? 0;
  }
  get localAddress(): string {
    return this.#req.socket.localAddress ?? '';
  }
  get localPort(): number {
    return this.#req.socket.localPort ?? 0;
  }
  get secure(): boolean {
    return (this.#req.socket as Partial<TLSSocket>).encrypted === true;
  }

  readBody(limit: number): Promise<Uint8Array> {
    const req = this.#req;
    const declared = Number(req.headers['content-length']);
    if (declared > limit) return Promise.reject(new BodyTooLargeError(limit));
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const onData = (chunk: Buffer) => {
        size += chunk.length;
        if (size > limit) {
          cleanup();
          reject(new BodyTooLargeError(limit));
          return;
        }
        chunks.push(chunk);
      };
      const onEnd = () => {
        cleanup();
        resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
      };
      const onError = (err: Error) => {
        cleanup();
        reject(err);
      };
      const cleanup = () => {
        req.off('data', onData);
        req.off('end', onEnd);
        req.off('error', onError);
      };
      if (req.readableEnded) {
        resolve(new Uint8Array(0));
        return;
      }
      req.on('data', onData);
      req.on('end', onEnd);
      req.on('error', onError);
    });
  }

  respond(status: number, headers: Record<string, HeaderValue>, body: Chunk | null): void {
    const res = this.#res;
    if (res.headersSent || res.destroyed) return;
    // nginx's reason phrases ("302 Moved Temporarily"), where Node's differ.
    const reason = reasonPhrase(status);
    if (reason === undefined) res.writeHead(status, headers);
    else res.writeHead(status, reason, headers);
    if (body === null) res.end();
    else res.end(body);
  }

  abort(): void {
    this.#res.destroy();
  }
}
