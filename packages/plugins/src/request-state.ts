// What plugins keep for one request, in one object under a symbol key of `ngx.ctx` (a WeakMap per
// plugin costs about a microsecond per request in garbage collection; a property does not).

import type { Ngx } from '@phasekit/core';

const KEY = Symbol.for('phasekit.plugins.request');

/**
 * Per-request plugin state. The built-ins' fields are declared here so every request's object
 * has one shape from the start (added one by one, each would grow and reshape it).
 */
export class RequestSlots {
  [field: string]: unknown;
  /** gateway/runs.ts: the request's route and chain. */
  run: unknown = undefined;
  /** consumers.ts: what the request authenticated as. */
  authenticated: unknown = undefined;
  /** correlation-id: the id to echo. */
  correlationId: unknown = undefined;
  /** rate-limiting: the headers header_filter sets. */
  rateLimitHeaders: unknown = undefined;
}

/** The request's slots, made on first use. */
export function slotsOf(ngx: Ngx): RequestSlots {
  const ctx = ngx.ctx as unknown as Record<symbol, RequestSlots | undefined>;
  let slots = ctx[KEY];
  // A symbol key: Object.keys, JSON and ngx.ctx exports do not see it.
  if (slots === undefined) ctx[KEY] = slots = new RequestSlots();
  return slots;
}

/** The request's slots if any plugin made them. */
export function peekSlots(ngx: Ngx): RequestSlots | undefined {
  return (ngx.ctx as unknown as Record<symbol, RequestSlots | undefined>)[KEY];
}
