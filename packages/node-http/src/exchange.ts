// Node's IncomingMessage/ServerResponse seen as core's HttpExchange.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { BodyTooLargeError, reasonPhrase, type Chunk, type HeaderValue, type HttpExchange } from '@phasekit/core';
import { IncomingRequest } from './incoming.js';

export class NodeExchange extends IncomingRequest implements HttpExchange {
  readonly #res: ServerResponse;

  constructor(req: IncomingMessage, res: ServerResponse) {
    super(req);
    this.#res = res;
  }

  readBody(limit: number): Promise<Uint8Array> {
    const req = this.req;
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
      // A client that leaves before the body is complete: no 'end' will ever come.
      const onClose = () => {
        if (req.complete) return;
        cleanup();
        reject(new Error('client prematurely closed connection'));
      };
      const cleanup = () => {
        req.off('data', onData);
        req.off('end', onEnd);
        req.off('error', onError);
        req.off('close', onClose);
      };
      if (req.readableEnded) {
        resolve(new Uint8Array(0));
        return;
      }
      if (req.destroyed) {
        reject(new Error('client prematurely closed connection'));
        return;
      }
      req.on('data', onData);
      req.on('end', onEnd);
      req.on('error', onError);
      req.on('close', onClose);
    });
  }

  bodyStream(): Readable {
    return this.req;
  }

  onClientAbort(fn: () => void): () => void {
    const res = this.#res;
    const onClose = () => {
      if (!res.writableFinished) fn();
    };
    res.once('close', onClose);
    return () => res.off('close', onClose);
  }

  clientGone(): boolean {
    const res = this.#res;
    return !res.writableFinished && (res.destroyed || res.socket?.destroyed === true);
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

  writeHead(status: number, headers: Record<string, HeaderValue>): void {
    const res = this.#res;
    if (res.headersSent || res.destroyed) return;
    const reason = reasonPhrase(status);
    if (reason === undefined) res.writeHead(status, headers);
    else res.writeHead(status, reason, headers);
  }

  flushHeaders(): void {
    const res = this.#res;
    if (!res.destroyed && !res.writableEnded) res.flushHeaders();
  }

  write(chunk: Chunk): boolean {
    const res = this.#res;
    if (res.destroyed || res.writableEnded) return true;
    return res.write(chunk);
  }

  end(done?: (aborted: boolean) => void): void {
    const res = this.#res;
    if (done === undefined) {
      if (!res.writableEnded) res.end();
      return;
    }
    let called = false;
    const once = (aborted: boolean) => {
      if (called) return;
      called = true;
      done(aborted);
    };
    if (res.destroyed || res.writableEnded) {
      once(res.destroyed && !res.writableFinished);
      return;
    }
    res.once('close', () => once(!res.writableFinished));
    res.end(() => once(false));
  }

  drained(): Promise<void> {
    const res = this.#res;
    if (!res.writableNeedDrain || res.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      const settle = () => {
        res.off('drain', settle);
        res.off('close', settle);
        resolve();
      };
      res.once('drain', settle);
      res.once('close', settle);
    });
  }

  abort(): void {
    this.#res.destroy();
  }
}
