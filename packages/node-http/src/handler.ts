// `(req, res, next?)` for http.createServer / https.createServer, backed by an engine.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { defaultPage, type Engine } from '@phasekit/core';
import { NodeExchange } from './exchange.js';

export type NextFunction = (err?: unknown) => void;
export type NodeHandler = (req: IncomingMessage, res: ServerResponse, next?: NextFunction) => void;

/**
 * A request whose path matches a location is the engine's; any other goes to `next()`
 * when given (the host app), else gets nginx's 404 page.
 */
export function createHandler(engine: Engine): NodeHandler {
  return function phasekit(req, res, next) {
    let handled: boolean;
    try {
      handled = engine.handle(new NodeExchange(req, res));
    } catch (err) {
      if (next !== undefined) return next(err);
      // The engine is closed (a request on a kept-alive connection during shutdown): 503, no crash.
      const page = defaultPage(503) as string;
      res.writeHead(503, { 'Content-Type': 'text/html', 'Content-Length': Buffer.byteLength(page), Connection: 'close' });
      res.end(req.method === 'HEAD' ? undefined : page);
      return;
    }
    if (handled) return;
    if (next !== undefined) return next();
    const page = defaultPage(404) as string;
    res.writeHead(404, { 'Content-Type': 'text/html', 'Content-Length': Buffer.byteLength(page) });
    res.end(req.method === 'HEAD' ? undefined : page);
  };
}
