// Express middleware: requests on an engine's locations are served by the engine, the rest go to next().

import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { HandlerError, type Engine } from '@phasekit/core';
import { ExpressExchange } from './exchange.js';

export interface PhasekitMiddlewareOptions {
  /**
   * Where an error thrown by a rewrite, access or content (or set) handler goes when the
   * engine would answer it with its 500 page: `'next'` (default) calls `next(err)` with a
   * HandlerError (code PHASEKIT_ERR_HANDLER, `cause` = what the handler threw) so the app's
   * error middleware answers; `'engine'` keeps nginx's 500 page.
   */
  handlerErrors?: 'next' | 'engine';
}

/**
 * `app.use(phasekit(engine))`: a request whose path (below the mount point, as Express
 * gives it in `req.url`) matches one of the engine's locations is served by the engine;
 * any other goes to `next()` untouched.
 */
export function phasekit(engine: Engine, options: PhasekitMiddlewareOptions = {}): RequestHandler {
  const toNext = (options.handlerErrors ?? 'next') === 'next';
  // Requests of this middleware in flight, by the engine's request id. The engine reports a
  // handler error with that id only, and announces the id while handle() runs (request:start).
  const inFlight = new Map<number, ExpressExchange>();
  let starting: ExpressExchange | undefined;
  if (toNext) {
    engine.on('request:start', (info) => {
      if (starting === undefined) return;
      inFlight.set(info.id, starting);
      starting = undefined;
    });
    engine.on('request:end', (info) => {
      inFlight.delete(info.id);
    });
    engine.on('handler:error', (info) => {
      const exchange = inFlight.get(info.id);
      if (exchange === undefined) return;
      const where = `${info.phase} handler of location "${info.location}"`;
      exchange.handlerFailed(new HandlerError(info.phase, where, info.error));
    });
  }

  return function phasekitMiddleware(req: Request, res: Response, next: NextFunction): void {
    const exchange = new ExpressExchange(req, res, toNext ? next : undefined);
    let handled: boolean;
    starting = toNext ? exchange : undefined;
    try {
      handled = engine.handle(exchange);
    } catch (err) {
      // The engine refused the request (closed).
      return next(err);
    } finally {
      starting = undefined;
    }
    if (!handled) next();
  };
}
