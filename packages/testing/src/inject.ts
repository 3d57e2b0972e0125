// inject(): one whole request through an engine's pipeline, with no socket (light-my-request).

import { inject as lightInject, type InjectOptions as LightOptions } from 'light-my-request';
import type { Engine } from '@phasekit/core';
import { createHandler } from '@phasekit/node-http';

export interface InjectOptions {
  method?: string;
  /** Path with optional query, `/api?x=1`. */
  url?: string;
  headers?: Record<string, string | string[]>;
  body?: string | Uint8Array;
  remoteAddress?: string;
}

export interface InjectResponse {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  /** The body as UTF-8 text. */
  body: string;
  rawBody: Buffer;
  /** True when the engine closed the connection without a response (ngx.exit(ngx.ERROR), 444). */
  aborted: boolean;
}

/** Sends one request through `engine` and resolves with what a client would see. */
export async function inject(engine: Engine, options: InjectOptions | string = {}): Promise<InjectResponse> {
  const opts: InjectOptions = typeof options === 'string' ? { url: options } : options;
  const handler = createHandler(engine);
  const light: LightOptions = {
    method: (opts.method ?? 'GET') as LightOptions['method'],
    url: opts.url ?? '/',
    headers: opts.headers ?? {},
    remoteAddress: opts.remoteAddress ?? '127.0.0.1',
  };
  if (opts.body !== undefined) light.payload = typeof opts.body === 'string' ? opts.body : Buffer.from(opts.body);
  try {
    const res = await lightInject((req, res) => handler(req, res), light);
    return { status: res.statusCode, headers: res.headers, body: res.body, rawBody: res.rawPayload, aborted: false };
  } catch (err) {
    if (isAbort(err)) return { status: 0, headers: {}, body: '', rawBody: Buffer.alloc(0), aborted: true };
    throw err;
  }
}

function isAbort(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'LIGHT_ECONNRESET' || code === 'ECONNRESET';
}
