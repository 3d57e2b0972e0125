// The Fastify plugin: requests on an engine's locations are served by the engine, the rest go on to the app's routes.

import type { FastifyInstance, FastifyPluginCallback, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import fp from 'fastify-plugin';
import { PhasekitError, type Engine, type LogEntry } from '@phasekit/core';
import { fastifyLogger } from './logger.js';
import { NodeExchange } from '@phasekit/node-http';
import { addRoutePhases } from './routes.js';

export interface PhasekitPluginOptions {
  /** The engine whose locations this context serves. Its owner closes it (e.g. in an onClose hook). */
  engine: Engine;
  /**
   * Serve the engine under this path prefix, in a context of its own, as Fastify's own
   * `register(plugin, { prefix })` does (fastify-plugin plugins normally ignore `prefix`;
   * this one honours it). Locations then match the path below the prefix.
   */
  prefix?: string;
}

/**
 * Why an onRequest hook and not a catch-all route or the 404 handler: onRequest runs before
 * Fastify parses the body (so the engine reads the request stream itself, untouched), before
 * any route-level work, for the app's own routes as well as for paths no route covers (the
 * 404 context carries the root's hooks), and it leaves the app's 404 handler alone. The engine
 * goes first wherever one of its locations matches, as nginx in front of an app would.
 */
function mount(instance: FastifyInstance, opts: PhasekitPluginOptions, done: (err?: Error) => void): void {
  const engine = opts.engine;
  addRoutePhases(instance, engine);
  // '' at the root; '/gw' in a context registered with { prefix: '/gw' }.
  const base = instance.prefix.replace(/\/+$/, '');

  instance.addHook('onRequest', function phasekitOnRequest(request: FastifyRequest, reply: FastifyReply, next: HookHandlerDoneFunction) {
    const raw = request.raw;
    let url: string | undefined;
    if (base !== '') {
      url = belowPrefix(raw.url ?? '/', base);
      if (url === undefined) return next();
    }
    const exchange = new FastifyExchange(request, reply, url);
    let handled: boolean;
    try {
      handled = engine.handle(exchange);
    } catch (err) {
      // The engine refused the request (closed): Fastify's error handling answers.
      return next(err as Error);
    }
    if (!handled) return next();
    // The engine answers on reply.raw (now or later); Fastify skips the rest of its lifecycle
    // but still runs onResponse hooks and logs the request when the response ends.
    reply.hijack();
    next();
  });

  if (base !== '') {
    // A prefixed context's hooks run only for routes of that context; a path under the prefix
    // that no route covers would go to the root's 404 handler without passing the hook above.
    // This catch-all (`<prefix>*`, less specific than any static or parametric route) routes
    // such paths into this context; when the engine declines them they get the app's 404,
    // before any body parsing (a route-level preParsing hook runs after the context's hooks).
    instance.route({
      method: instance.supportedMethods,
      url: '*',
      preParsing: (_request, reply) => {
        reply.callNotFound();
      },
      // Required by Fastify; not reached, as preParsing has answered.
      handler: (_request, reply) => {
        reply.callNotFound();
      },
    });
  }
  done();
}

const plugin: FastifyPluginCallback<PhasekitPluginOptions> = (instance, opts, done) => {
  if (typeof opts?.engine?.handle !== 'function') {
    done(new PhasekitError('PHASEKIT_ERR_BAD_ARGUMENT', '@phasekit/fastify: options.engine must be an engine from createEngine()'));
    return;
  }
  if (opts.prefix !== undefined && opts.prefix !== '' && opts.prefix !== '/') {
    // A context of its own with the prefix, as a plugin without fastify-plugin would get.
    instance.register((child, _opts, childDone) => mount(child, opts, childDone), { prefix: opts.prefix });
    done();
    return;
  }
  mount(instance, opts, done);
};

/**
 * `app.register(phasekit, { engine })`: the engine serves every request whose path matches
 * one of its locations; all others go on to the app's routes untouched. Registered inside an
 * encapsulated context with a prefix (or given `prefix`), it serves paths under that prefix
 * only, and locations match the path below it.
 */
export const phasekit = fp(plugin, { fastify: '5.x', name: '@phasekit/fastify' });

/** The request target below `base`, or undefined when the path is not under it. */
function belowPrefix(url: string, base: string): string | undefined {
  if (!url.startsWith(base)) return undefined;
  const rest = url.slice(base.length);
  if (rest === '') return '/';
  const c = rest.charCodeAt(0);
  if (c === 0x2f /* / */) return rest;
  if (c === 0x3f /* ? */) return `/${rest}`;
  return undefined;
}

/**
 * A Fastify request as the engine sees it: the path below the context's prefix (when mounted
 * under one), and the engine's log lines for it written to request.log.
 */
class FastifyExchange extends NodeExchange {
  readonly #request: FastifyRequest;
  readonly #url: string | undefined;

  constructor(request: FastifyRequest, reply: FastifyReply, url: string | undefined) {
    super(request.raw, reply.raw);
    this.#request = request;
    this.#url = url;
  }

  override get url(): string {
    return this.#url ?? super.url;
  }

  log(entry: LogEntry): void {
    fastifyLogger(this.#request.log)(entry);
  }
}
