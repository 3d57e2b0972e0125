// rate-limiting: fixed windows per second/minute/hour/day/month/year, counted per consumer,
// credential, IP, header or path in a shared dict (`policy: "local"`). Kong's answers: 429
// {"message":"API rate limit exceeded"} with Retry-After, and X-RateLimit-Limit-<Period>,
// X-RateLimit-Remaining-<Period>, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset.

import type { Ngx, SharedDictStore } from '@phasekit/core';
import { z } from 'zod';
import { authenticatedOf } from '../consumers.js';
import { isThenable } from '../chain.js';
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

interface Prepared extends Conf {
  readonly store: SharedDictStore;
  readonly scope: string;
  readonly limits: readonly (readonly [Period, number, string])[];
}

const TITLE: Record<Period, string> = { second: 'Second', minute: 'Minute', hour: 'Hour', day: 'Day', month: 'Month', year: 'Year' };

/** Response headers computed in access, set in header_filter (they reach the 429 and the upstream's answer). */
const pending = new WeakMap<Ngx, [string, string][]>();

export function rateLimiting(services: PluginServices) {
  return builtin({
    name: 'rate-limiting',
    priority: 910,
    schema,
    prepare: (conf, site): Prepared => ({
      ...conf,
      store: dictNamed(services, conf.dict, 'dict'),
      scope: site.route === undefined ? site.location : `route:${site.route}`,
      limits: PERIODS.filter((p) => conf[p] !== undefined).map((p) => [p, conf[p] as number, TITLE[p]] as const),
    }),
    methods: {
      access: (ngx, conf: Prepared) => {
        const now = ngx.now();
        const id = identifier(ngx, conf);
        const windows = conf.limits.map(([period]) => windowOf(period, now));
        const keys = conf.limits.map(([period], i) => `${conf.scope}|${id}|${period}|${(windows[i] as Window).start}`);
        let usages: unknown[];
        try {
          usages = keys.map((k) => conf.store.get(k));
        } catch (err) {
          return storeFailed(ngx, services, conf, err);
        }
        if (usages.some(isThenable)) {
          return Promise.all(usages).then(
            (u) => decide(ngx, conf, keys, windows, u, now, services),
            (err: unknown) => storeFailed(ngx, services, conf, err),
          );
        }
        return decide(ngx, conf, keys, windows, usages, now, services);
      },
      headerFilter: (ngx) => {
        const headers = pending.get(ngx);
        if (headers !== undefined) for (const [name, value] of headers) ngx.header[name] = value;
      },
    },
  });
}

interface Window {
  start: number;
  /** Seconds until the window ends. */
  length: number;
  end: number;
}

/** The fixed window of `period` holding `now` (UTC calendar months and years). */
function windowOf(period: Period, now: number): Window {
  const fixed = FIXED[period];
  if (fixed !== undefined) {
    const start = Math.floor(now / fixed) * fixed;
    return { start, length: fixed, end: start + fixed };
  }
  const d = new Date(now * 1000);
  const y = d.getUTCFullYear();
  const startMs = period === 'month' ? Date.UTC(y, d.getUTCMonth(), 1) : Date.UTC(y, 0, 1);
  const endMs = period === 'month' ? Date.UTC(y, d.getUTCMonth() + 1, 1) : Date.UTC(y + 1, 0, 1);
  return { start: startMs / 1000, length: (endMs - startMs) / 1000, end: endMs / 1000 };
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

function decide(ngx: Ngx, conf: Prepared, keys: readonly string[], windows: readonly Window[], usages: readonly unknown[], now: number, services: PluginServices): void {
  let stop = -1;
  const remaining: number[] = [];
  for (let i = 0; i < conf.limits.length; i++) {
    const max = (conf.limits[i] as readonly [Period, number, string])[1];
    const used = typeof usages[i] === 'number' ? (usages[i] as number) : 0;
    remaining.push(max - used);
    if (max - used <= 0) stop = i;
  }
  if (!conf.hide_client_headers) {
    const headers: [string, string][] = [];
    // RateLimit-*: the window closest to its limit (the longer one among equals), as Kong.
    let pick = -1;
    let pickRemaining = Infinity;
    for (let i = 0; i < conf.limits.length; i++) {
      const [, max, title] = conf.limits[i] as readonly [Period, number, string];
      const left = Math.max(0, stop === -1 || stop === i ? (remaining[i] as number) - 1 : (remaining[i] as number));
      headers.push([`X-RateLimit-Limit-${title}`, String(max)], [`X-RateLimit-Remaining-${title}`, String(left)]);
      if (left < pickRemaining || (left === pickRemaining && (windows[i] as Window).length > (windows[pick] as Window).length)) {
        pick = i;
        pickRemaining = left;
      }
    }
    const reset = Math.max(1, Math.ceil((windows[pick] as Window).end - now));
    headers.push(['RateLimit-Limit', String((conf.limits[pick] as readonly [Period, number, string])[1])], ['RateLimit-Remaining', String(pickRemaining)], ['RateLimit-Reset', String(reset)]);
    if (stop !== -1) headers.push(['Retry-After', String(Math.max(1, Math.ceil((windows[stop] as Window).end - now)))]);
    pending.set(ngx, headers);
  }
  if (stop !== -1) return kongExit(ngx, conf.error_code, conf.error_message);
  for (let i = 0; i < keys.length; i++) {
    let r: unknown;
    try {
      r = conf.store.incr(keys[i] as string, 1, 0, (windows[i] as Window).length);
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
