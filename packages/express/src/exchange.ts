// Express's req/res seen as core's HttpExchange: the path below the mount point, a body a parser kept, errors for next().

import type { IncomingMessage, ServerResponse } from 'node:http';
import { BodyTooLargeError, type Chunk, type HeaderValue } from '@phasekit/core';
import { NodeExchange } from '@phasekit/node-http';

/** What body parsers leave on the request once they have consumed its stream. */
interface ParsedRequest extends IncomingMessage {
  body?: unknown;
  rawBody?: unknown;
}

export class ExpressExchange extends NodeExchange {
  readonly #req: ParsedRequest;
  // Express rewrites req.url while a mounted middleware runs and restores it on next():
  // the engine keeps the path it matched on.
  readonly #url: string;
  readonly #fail: ((err: unknown) => void) | undefined;
  #failure: unknown;
  #failed = false;

  /** `fail` receives a handler error instead of the engine's 500 page; undefined keeps the page. */
  constructor(req: IncomingMessage, res: ServerResponse, fail: ((err: unknown) => void) | undefined) {
    super(req, res);
    this.#req = req;
    this.#url = req.url ?? '/';
    this.#fail = fail;
  }

  override get url(): string {
    return this.#url;
  }

  /** The engine reports a handler error of this request (HttpExchange.handlerFailed). */
  handlerFailed(err: unknown): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#failure = err;
  }

  /**
   * A body parser (express.json(), express.raw(), express.text()...) that ran first has read
   * the stream: the exact bytes are given back when it kept them (`req.rawBody` from a
   * `verify` hook, a Buffer or string `req.body`); a parsed object cannot be turned back into
   * the bytes the client sent, so the engine then sees no body, as if the client sent none.
   */
  override readBody(limit: number): Promise<Uint8Array> {
    const req = this.#req;
    if (req.readableEnded) {
      const kept = keptBody(req);
      if (kept !== undefined) {
        return kept.byteLength > limit ? Promise.reject(new BodyTooLargeError(limit)) : Promise.resolve(kept);
      }
    }
    return super.readBody(limit);
  }

  override respond(status: number, headers: Record<string, HeaderValue>, body: Chunk | null): void {
    // The engine answers 500 because a handler failed: Express's error middleware answers instead.
    if (this.#failed && status === 500 && this.#fail !== undefined) {
      this.#failed = false;
      this.#fail(this.#failure);
      return;
    }
    super.respond(status, headers, body);
  }
}

function keptBody(req: ParsedRequest): Uint8Array | undefined {
  if (req.rawBody instanceof Uint8Array) return req.rawBody;
  if (typeof req.rawBody === 'string') return Buffer.from(req.rawBody);
  if (req.body instanceof Uint8Array) return req.body;
  if (typeof req.body === 'string') return Buffer.from(req.body);
  return undefined;
}
