// cors: answers preflights (OPTIONS with Access-Control-Request-Method) with 200 and the
// Access-Control-Allow-* headers, and adds Access-Control-Allow-Origin (and -Credentials,
// -Expose-Headers) to the other responses, as Kong's cors plugin.

import type { Ngx } from '@phasekit/core';
import { z } from 'zod';
import { builtin, header, isPreflight } from './common.js';

const METHODS = ['GET', 'HEAD', 'PUT', 'PATCH', 'POST', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT'] as const;

const schema = z
  .object({
    /** Allowed origins: "*", exact origins, or regular expressions (matched against the whole Origin). */
    origins: z.array(z.string().min(1).refine(validPattern, { message: 'expected "*", an origin, or a valid regular expression' })).default([]),
    methods: z.array(z.enum(METHODS)).default([...METHODS]),
    /** Access-Control-Allow-Headers; default: the request's Access-Control-Request-Headers. */
    headers: z.array(z.string().min(1)).optional(),
    exposed_headers: z.array(z.string().min(1)).optional(),
    credentials: z.boolean().default(false),
    max_age: z.number().int().min(0).optional(),
    /** Pass preflights on to the location (with the CORS headers added) instead of answering them. */
    preflight_continue: z.boolean().default(false),
  })
  .strict();

type Conf = z.output<typeof schema>;

interface Prepared extends Conf {
  readonly any: boolean;
  readonly exact: ReadonlySet<string>;
  readonly patterns: readonly RegExp[];
}

function validPattern(o: string): boolean {
  try {
    new RegExp(o);
    return true;
  } catch {
    return false;
  }
}

const REGEX_CHARS = /[\\^$.*+?()[\]{}|]/;

export function cors() {
  return builtin({
    name: 'cors',
    priority: 2000,
    schema,
    prepare: (conf): Prepared => {
      const any = conf.origins.length === 0 || conf.origins.includes('*');
      const literal = conf.origins.filter((o) => o !== '*' && (!REGEX_CHARS.test(o) || /^https?:\/\/[A-Za-z0-9.-]+(:\d+)?$/.test(o)));
      const patterns = conf.origins.filter((o) => o !== '*' && !literal.includes(o)).map((o) => new RegExp(`^(?:${o})$`));
      return { ...conf, any, exact: new Set(literal.map((o) => o.toLowerCase())), patterns };
    },
    methods: {
      access: (ngx, conf: Prepared) => {
        if (!isPreflight(ngx) || conf.preflight_continue) return undefined;
        allowOrigin(ngx, conf);
        const requested = header(ngx, 'access-control-request-headers');
        const allowHeaders = conf.headers === undefined ? requested : conf.headers.join(',');
        if (allowHeaders !== undefined && allowHeaders !== '') ngx.header['Access-Control-Allow-Headers'] = allowHeaders;
        ngx.header['Access-Control-Allow-Methods'] = conf.methods.join(',');
        if (conf.max_age !== undefined) ngx.header['Access-Control-Max-Age'] = String(conf.max_age);
        ngx.status = 200;
        ngx.header['Content-Length'] = '0';
        return ngx.exit(200);
      },
      headerFilter: (ngx, conf: Prepared) => {
        if (isPreflight(ngx) && !conf.preflight_continue) return;
        allowOrigin(ngx, conf);
        if (conf.exposed_headers !== undefined && conf.exposed_headers.length > 0) ngx.header['Access-Control-Expose-Headers'] = conf.exposed_headers.join(',');
      },
    },
  });
}

/** Access-Control-Allow-Origin (+ Vary: Origin, + -Credentials) for the request's Origin. */
function allowOrigin(ngx: Ngx, conf: Prepared): void {
  const origin = header(ngx, 'origin');
  let allowed: string | undefined;
  if (conf.any) {
    // With credentials a "*" answer is refused by browsers: the origin is reflected instead.
    allowed = conf.credentials && origin !== undefined ? origin : '*';
  } else if (origin !== undefined && (conf.exact.has(origin.toLowerCase()) || conf.patterns.some((p) => p.test(origin)))) {
    allowed = origin;
  }
  if (allowed !== '*') vary(ngx);
  if (allowed === undefined) return;
  ngx.header['Access-Control-Allow-Origin'] = allowed;
  if (conf.credentials) ngx.header['Access-Control-Allow-Credentials'] = 'true';
}

function vary(ngx: Ngx): void {
  const prior = ngx.header.Vary;
  const list = prior === undefined || prior === null ? [] : String(prior).split(/\s*,\s*/);
  if (!list.some((v) => v.toLowerCase() === 'origin')) ngx.header.Vary = [...list.filter((v) => v !== ''), 'Origin'].join(', ');
}
