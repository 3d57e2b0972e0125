// `(req, res, next?)` for http.createServer / https.createServer, backed by an engine.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { answerPage, type Engine } from '@phasekit/core';
import { NodeExchange } from './exchange.js';

export type NextFunction = (err?: unknown) => void;
export type NodeHandler = (req: IncomingMessage, res: ServerResponse, next?: NextFunction) => void;

/**
 * A request whose path matches a location is the engine's; any other goes to `next()`
 * when given (the host app), else gets nginx's 404 page.
 */
export function createHandler(engine: Engine): NodeHandler {
  return function phasekit(req, res, next) {
    const exchange = new NodeExchange(req, res);
    let handled: boolean;
    try {
      handled = engine.handle(exchange);
    } catch (err) {
      if (next !== undefined) return next(err);
      // The engine is closed (a request on a kept-alive connection during shutdown): 503, no crash.
      answerPage(exchange, 503, true);
      return;
    }
    if (handled) return;
    if (next !== undefined) return next();
    answerPage(exchange, 404);
  };
}
