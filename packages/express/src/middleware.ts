// Express middleware: requests on an engine's locations are served by the engine, the rest go to next().

import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Engine } from '@phasekit/core';
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

  return function phasekitMiddleware(req: Request, res: Response, next: NextFunction): void {
    // The exchange answers handler failures by handing them to next() (HttpExchange.answerFailure).
    const exchange = new ExpressExchange(req, res, toNext ? next : undefined);
    let handled: boolean;
    try {
      handled = engine.handle(exchange);
    } catch (err) {
      // The engine refused the request (closed).
      return next(err);
    }
    if (!handled) next();
  };
}
