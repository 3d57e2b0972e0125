// Express's req/res seen as core's HttpExchange: the path below the mount point, a body a parser kept, errors for next().

import type { IncomingMessage, ServerResponse } from 'node:http';
import { BodyTooLargeError, type HandlerError } from '@phasekit/core';
import { NodeExchange, parsedBody } from '@phasekit/node-http';

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

  /** A handler failed before output: Express's error middleware answers (HttpExchange.answerFailure). */
  answerFailure(err: HandlerError): boolean {
    if (this.#fail === undefined) return false;
    this.#fail(err);
    return true;
  }

  /** A body parser (express.json(), express.raw()...) that ran first has read the stream: see parsedBody's rule. */
  override readBody(limit: number): Promise<Uint8Array> {
    const req = this.#req;
    if (req.readableEnded) {
      const kept = parsedBody(req.headers['content-type'], req.body, req.rawBody);
      if (kept !== undefined) {
        return kept.byteLength > limit ? Promise.reject(new BodyTooLargeError(limit)) : Promise.resolve(kept);
      }
    }
    return super.readBody(limit);
  }

}
