// rate-limiting: fixed windows per second/minute/hour/day/month/year, counted per consumer,
// credential, IP, header or path in a shared dict (`policy: "local"`). Kong's answers: 429
// {"message":"API rate limit exceeded"} with Retry-After, and X-RateLimit-Limit-<Period>,
// X-RateLimit-Remaining-<Period>, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset.

import type { Ngx, SharedDictStore } from '@phasekit/core';
import { z } from 'zod';
import { authenticatedOf } from '../consumers.js';
import { isThenable } from '../chain.js';
import { peekSlots, slotsOf } from '../request-state.js';
import { builtin, dictNamed, header, kongExit, type PluginServices } from './common.js';

const PERIODS = ['second', 'minute', 'hour', 'day', 'month', 'year'] as const;
type Period = (typeof PERIODS)[number];
const FIXED: Partial<Record<Period, number>> = { second: 1, minute: 60, hour: 3600, day: 86400 };

const limit = z.number().gt(0, 'expected number > 0').optional();

const schema = z
  .object({
    second: limit,
    minute: limit,
    hour: limit,
    day: limit,
    month: limit,
    year: limit,
    limit_by: z.enum(['consumer', 'credential', 'ip', 'header', 'path']).default('consumer'),
    header_name: z.string().min(1).optional(),
    path: z.string().startsWith('/').optional(),
    /**
     * Where counters live. "local": the shared dict `dict` of this engine. A store that spans
     * processes (a Redis-backed shared dict) plugs in as that dict, see docs/plugins.md.
     */
    policy: z.enum(['local']).default('local'),
    dict: z.string().min(1).default('rate_limiting_counters'),
    /** When the counter store fails: let the request through (true) or answer 500. */
    fault_tolerant: z.boolean().default(true),
    hide_client_headers: z.boolean().default(false),
    error_code: z.number().int().min(400).max(599).default(429),
    error_message: z.string().default('API rate limit exceeded'),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (PERIODS.every((p) => c[p] === undefined)) ctx.addIssue({ code: 'custom', message: 'expected at least one of second, minute, hour, day, month, year' });
    if (c.limit_by === 'header' && c.header_name === undefined) ctx.addIssue({ code: 'custom', path: ['header_name'], message: 'required when limit_by is "header"' });
    if (c.limit_by === 'path' && c.path === undefined) ctx.addIssue({ code: 'custom', path: ['path'], message: 'required when limit_by is "path"' });
    const order = PERIODS.filter((p) => c[p] !== undefined);
    for (let i = 1; i < order.length; i++) {
      const a = order[i - 1] as Period;
      const b = order[i] as Period;
      if ((c[b] as number) < (c[a] as number)) ctx.addIssue({ code: 'custom', path: [b], message: `expected a limit not smaller than ${a}'s (${c[a]})` });
    }
  });

type Conf = z.output<typeof schema>;

/** One configured window, with its header names made once. */
interface Limit {
  readonly period: Period;
  readonly max: number;
  /** Seconds, for second/minute/hour/day; 0 for calendar months and years. */
  readonly fixed: number;
  readonly limitHeader: string;
  readonly remainingHeader: string;
}

interface Prepared extends Conf {
  readonly store: SharedDictStore;
  readonly scope: string;
  readonly limits: readonly Limit[];
}

const TITLE: Record<Period, string> = { second: 'Second', minute: 'Minute', hour: 'Hour', day: 'Day', month: 'Month', year: 'Year' };


export function rateLimiting(services: PluginServices) {
  return builtin({
    name: 'rate-limiting',
    priority: 910,
    schema,
    prepare: (conf, site): Prepared => ({
      ...conf,
      store: dictNamed(services, conf.dict, 'dict'),
      scope: site.route === undefined ? site.location : `route:${site.route}`,
      limits: PERIODS.filter((p) => conf[p] !== undefined).map((p) => ({
        period: p,
        max: conf[p] as number,
        fixed: FIXED[p] ?? 0,
        limitHeader: `X-RateLimit-Limit-${TITLE[p]}`,
        remainingHeader: `X-RateLimit-Remaining-${TITLE[p]}`,
      })),
    }),
    methods: {
      access: (ngx, conf: Prepared) => {
        const now = ngx.now();
        const id = identifier(ngx, conf);
        const n = conf.limits.length;
        const starts: number[] = new Array(n);
        const ends: number[] = new Array(n);
        const keys: string[] = new Array(n);
        const usages: unknown[] = new Array(n);
        let waits = false;
        try {
          for (let i = 0; i < n; i++) {
            const l = conf.limits[i] as Limit;
            window(l, now, starts, ends, i);
            keys[i] = `${conf.scope}|${id}|${l.period}|${starts[i]}`;
            const u = conf.store.get(keys[i] as string);
            usages[i] = u;
            if (isThenable(u)) waits = true;
          }
        } catch (err) {
          return storeFailed(ngx, services, conf, err);
        }
        if (waits) {
          return Promise.all(usages).then(
            (u) => decide(ngx, conf, keys, starts, ends, u, now, services),
            (err: unknown) => storeFailed(ngx, services, conf, err),
          );
        }
        return decide(ngx, conf, keys, starts, ends, usages, now, services);
      },
      headerFilter: (ngx) => {
        // Computed in access, set here: they reach the 429 and the upstream's answer alike.
        const headers = peekSlots(ngx)?.rateLimitHeaders as string[] | undefined;
        if (headers === undefined) return;
        const h = ngx.header;
        for (let i = 0; i < headers.length; i += 2) h[headers[i] as string] = headers[i + 1];
      },
    },
  });
}

/** The fixed window of `l` holding `now` (UTC calendar months and years) into starts[i] / ends[i]. */
function window(l: Limit, now: number, starts: number[], ends: number[], i: number): void {
  if (l.fixed > 0) {
    const start = Math.floor(now / l.fixed) * l.fixed;
    starts[i] = start;
    ends[i] = start + l.fixed;
    return;
  }
  const d = new Date(now * 1000);
  const y = d.getUTCFullYear();
  starts[i] = (l.period === 'month' ? Date.UTC(y, d.getUTCMonth(), 1) : Date.UTC(y, 0, 1)) / 1000;
  ends[i] = (l.period === 'month' ? Date.UTC(y, d.getUTCMonth() + 1, 1) : Date.UTC(y + 1, 0, 1)) / 1000;
}

function identifier(ngx: Ngx, conf: Conf): string {
  const ip = () => String(ngx.var.remote_addr ?? '');
  switch (conf.limit_by) {
    case 'consumer': {
      const a = authenticatedOf(ngx);
      return a?.consumer?.id ?? a?.credential?.id ?? ip();
    }
    case 'credential':
      return authenticatedOf(ngx)?.credential?.id ?? ip();
    case 'header':
      return header(ngx, conf.header_name as string) ?? ip();
    case 'path':
      return ngx.var.uri === conf.path ? (conf.path as string) : ip();
    default:
      return ip();
  }
}

function decide(ngx: Ngx, conf: Prepared, keys: readonly string[], starts: readonly number[], ends: readonly number[], usages: readonly unknown[], now: number, services: PluginServices): void {
  const n = conf.limits.length;
  let stop = -1;
  for (let i = 0; i < n; i++) {
    const used = usages[i];
    if ((conf.limits[i] as Limit).max - (typeof used === 'number' ? used : 0) <= 0) stop = i;
  }
  if (!conf.hide_client_headers) {
    const headers: string[] = [];
    // RateLimit-*: the window closest to its limit (the longer one among equals), as Kong.
    let pick = 0;
    let pickLeft = Infinity;
    for (let i = 0; i < n; i++) {
      const l = conf.limits[i] as Limit;
      const used = usages[i];
      const remaining = l.max - (typeof used === 'number' ? used : 0);
      const left = Math.max(0, stop === -1 || stop === i ? remaining - 1 : remaining);
      headers.push(l.limitHeader, String(l.max), l.remainingHeader, String(left));
      if (left < pickLeft || (left === pickLeft && (ends[i] as number) - (starts[i] as number) > (ends[pick] as number) - (starts[pick] as number))) {
        pick = i;
        pickLeft = left;
      }
    }
    const reset = String(Math.max(1, Math.ceil((ends[pick] as number) - now)));
    headers.push('RateLimit-Limit', String((conf.limits[pick] as Limit).max), 'RateLimit-Remaining', String(pickLeft), 'RateLimit-Reset', reset);
    if (stop !== -1) headers.push('Retry-After', String(Math.max(1, Math.ceil((ends[stop] as number) - now))));
    slotsOf(ngx).rateLimitHeaders = headers;
  }
  if (stop !== -1) return kongExit(ngx, conf.error_code, conf.error_message);
  for (let i = 0; i < n; i++) {
    let r: unknown;
    try {
      r = conf.store.incr(keys[i] as string, 1, 0, (ends[i] as number) - (starts[i] as number));
    } catch (err) {
      services.log('error', `rate-limiting: cannot count in dict "${conf.dict}": ${(err as Error).message}`, ngx);
      continue;
    }
    if (isThenable(r)) Promise.resolve(r).catch((err: unknown) => services.log('error', `rate-limiting: cannot count in dict "${conf.dict}": ${(err as Error).message}`));
    else if (Array.isArray(r) && r[0] === undefined) services.log('error', `rate-limiting: cannot count in dict "${conf.dict}": ${String(r[1])}`, ngx);
  }
}

function storeFailed(ngx: Ngx, services: PluginServices, conf: Prepared, err: unknown): void {
  services.log('error', `rate-limiting: failed to get usage from dict "${conf.dict}": ${(err as Error).message}`, ngx);
  if (!conf.fault_tolerant) kongExit(ngx, 500, 'An unexpected error occurred');
}
