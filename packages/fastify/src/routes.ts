// Fastify's per-route mode: `config: { phases: { rewrite, access, headerFilter, bodyFilter, log } }`
// on a route runs those phases around the route's own handler, mapped onto Fastify's hooks
// (onRequest → rewrite, preHandler → access, onSend → header_filter + body_filter, response end → log).

import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { BodyTooLargeError, type Chunk, type Engine, type LogEntry, type PhaseSession, type RouteConfig, type SessionAnswer } from '@phasekit/core';
import { fastifyLogger } from './logger.js';
import { NodeExchange, parsedBody } from '@phasekit/node-http';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** phasekit phase handlers for this route (TypeScript functions or `{ lua }` / `{ luaFile }`). */
    phases?: RouteConfig;
  }
}

type Hook = (request: FastifyRequest, reply: FastifyReply, payload?: unknown) => Promise<unknown>;

/** Adds per-route phases to every route registered after it in this context (and its children). */
export function addRoutePhases(instance: FastifyInstance, engine: Engine): void {
  const sessions = new WeakMap<FastifyRequest, PhaseSession>();

  instance.addHook('onRoute', (route: RouteOptions) => {
    const phases = route.config?.phases;
    if (phases === undefined) return;
    const methods = Array.isArray(route.method) ? route.method.join(',') : route.method;
    const handlers = engine.compileRoute(`route ${methods} ${route.url}`, phases);

    // onRequest ≈ rewrite, preHandler ≈ access: an answer from either replaces the route's.
    const before = (phase: 'rewrite' | 'access'): Hook => async (request, reply) => {
      let session = sessions.get(request);
      if (session === undefined) {
        const started = engine.session(new RouteExchange(request, reply), handlers);
        session = started;
        sessions.set(request, started);
        // log runs when the response is done, or the client left: the session always ends
        // (also when the client left before this hook, during an earlier async one).
        if (reply.raw.closed || reply.raw.destroyed) void started.log(reply.raw.statusCode);
        else reply.raw.once('close', () => void started.log(reply.raw.statusCode));
      }
      const answer = await session.run(phase);
      if (answer !== undefined) return answerWith(reply, answer);
      return undefined;
    };
    // onSend ≈ header_filter + body_filter, on whatever the route (or an answer above) sends.
    const onSend: Hook = async (request, reply, payload) => {
      const session = sessions.get(request);
      if (session === undefined || !isFilterable(payload)) return payload;
      const filtered = session.filter(reply.statusCode, reply.getHeaders() as Record<string, string>, toChunk(payload));
      if (filtered === null) {
        reply.raw.destroy();
        return payload;
      }
      reply.code(filtered.status);
      for (const name of Object.keys(reply.getHeaders())) reply.removeHeader(name);
      reply.headers(filtered.headers);
      return filtered.body;
    };

    append(route, 'onRequest', before('rewrite'));
    append(route, 'preHandler', before('access'));
    append(route, 'onSend', onSend);
  });
}

/**
 * A route's request as the engine sees it: the body Fastify parsed stays readable through
 * ngx.req.read_body / get_body_data, and the engine's log lines go to request.log.
 */
class RouteExchange extends NodeExchange {
  readonly #request: FastifyRequest;

  constructor(request: FastifyRequest, reply: FastifyReply) {
    super(request.raw, reply.raw);
    this.#request = request;
  }

  override readBody(limit: number): Promise<Uint8Array> {
    const request = this.#request;
    // Before Fastify parsed it (rewrite, in onRequest) the raw stream is still there to read.
    if (request.body === undefined || request.body === null) return super.readBody(limit);
    // Parsed: the rule every adapter follows (see parsedBody); nothing to give back reads as no body.
    const bytes = parsedBody(request.headers['content-type'], request.body) ?? new Uint8Array(0);
    if (bytes.byteLength > limit) return Promise.reject(new BodyTooLargeError(limit));
    return Promise.resolve(bytes);
  }

  log(entry: LogEntry): void {
    fastifyLogger(this.#request.log)(entry);
  }
}

function answerWith(reply: FastifyReply, answer: SessionAnswer): FastifyReply | undefined {
  if (answer.abort) {
    reply.hijack();
    reply.raw.destroy();
    return undefined;
  }
  return reply.code(answer.status).headers(answer.headers).send(answer.body);
}

/** Streams pass through unfiltered (body_filter needs the bytes); strings and buffers are filtered. */
function isFilterable(payload: unknown): payload is string | Uint8Array | null | undefined {
  return payload === null || payload === undefined || typeof payload === 'string' || payload instanceof Uint8Array;
}

function toChunk(payload: string | Uint8Array | null | undefined): Chunk {
  return payload ?? '';
}

function append(route: RouteOptions, name: 'onRequest' | 'preHandler' | 'onSend', hook: Hook): void {
  const existing = route[name] as unknown;
  const list = existing === undefined ? [] : Array.isArray(existing) ? existing : [existing];
  (route as unknown as Record<string, unknown>)[name] = [...list, hook];
}
