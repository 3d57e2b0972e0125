// rate-limiting: fixed windows per second/minute/hour/day/month/year, counted per consumer,
// credential, IP, header or path in a shared dict (`policy: "local"`). Kong's answers: 429
// {"message":"API rate limit exceeded"} with Retry-After, and X-RateLimit-Limit-<Period>,
// X-RateLimit-Remaining-<Period>, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset.

import { isAsyncStore, type AnySharedDict, type Ngx, type SharedDictIncrResult } from '@phasekit/core';
import { z } from 'zod';
import { authenticatedOf } from '../consumers.js';
import { isThenable } from '../chain.js';
import { peekSlots, slotsOf } from '../request-state.js';
import { builtin, ConfProblem, dictNamed, header, kongExit, type PluginServices } from './common.js';

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
     * Where the counters live. "local": the shared dict `dict` in shared memory (one engine, or
     * its worker threads). "redis": `dict` is a shared dict on Redis (`store: "redis://..."`),
     * so every host counting there shares the limits.
     */
    policy: z.enum(['local', 'redis']).default('local'),
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

/** The dict `conf.dict`, where `conf.policy` says it must be: in shared memory ("local") or on Redis ("redis"). */
function policyStore(services: PluginServices, conf: Conf): AnySharedDict {
  const store = dictNamed(services, conf.dict, 'dict');
  const onRedis = isAsyncStore(store);
  if (conf.policy === 'redis' && !onRedis) {
    throw new ConfProblem('policy', `policy "redis" counts in a shared dict on Redis, and shared dict "${conf.dict}" is in shared memory (declare it with store: "redis://...")`);
  }
  if (conf.policy === 'local' && onRedis) {
    throw new ConfProblem('policy', `shared dict "${conf.dict}" is on Redis: set policy "redis" to count there`);
  }
  return store;
}

/** One window of one identifier: its counter key, start and end (seconds). */
interface Window {
  readonly key: string;
  readonly start: number;
  readonly end: number;
}

/** One configured window, with its header names made once. */
interface Limit {
  readonly period: Period;
  readonly max: number;
  /** Seconds, for second/minute/hour/day; 0 for calendar months and years. */
  readonly fixed: number;
  /** `max` as the headers carry it. */
  readonly maxText: string;
  readonly limitHeader: string;
  /** Each identifier's current window (see windowOf). */
  readonly windows: Map<string, Window>;
  readonly remainingHeader: string;
}

interface Prepared extends Conf {
  readonly store: AnySharedDict;
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
      store: policyStore(services, conf),
      scope: site.route === undefined ? site.location : `route:${site.route}`,
      limits: PERIODS.filter((p) => conf[p] !== undefined).map((p) => ({
        period: p,
        max: conf[p] as number,
        maxText: String(conf[p]),
        fixed: FIXED[p] ?? 0,
        limitHeader: `X-RateLimit-Limit-${TITLE[p]}`,
        remainingHeader: `X-RateLimit-Remaining-${TITLE[p]}`,
        windows: new Map(),
      })),
    }),
    methods: {
      // Counts first (one incr per window, the check and the count in one step, one round trip
      // on a remote store), then decides; a request over a limit takes its counts back, so a
      // refused request is not counted, as Kong's.
      access: (ngx, conf: Prepared) => {
        const now = ngx.now();
        const id = identifier(ngx, conf);
        const n = conf.limits.length;
        const wins: Window[] = new Array(n);
        const counts: unknown[] = new Array(n);
        let waits = false;
        try {
          for (let i = 0; i < n; i++) {
            const win = windowOf(conf, conf.limits[i] as Limit, id, now);
            wins[i] = win;
            const r = conf.store.incr(win.key, 1, 0, win.end - win.start);
            counts[i] = r;
            if (isThenable(r)) waits = true;
          }
        } catch (err) {
          undo(conf, wins, counts, services);
          return storeFailed(ngx, services, conf, err);
        }
        if (waits) {
          return Promise.all(counts).then(
            (c) => decide(ngx, conf, wins, c, now, services),
            (err: unknown) => storeFailed(ngx, services, conf, err),
          );
        }
        return decide(ngx, conf, wins, counts, now, services);
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

const WINDOWS_KEPT = 4096;

/**
 * The window of `l` holding `now` for `id`: its counter key (`<scope>|<id>|<period>|<start>`),
 * start and end in seconds (UTC calendar months and years). Kept per identifier, so a client's
 * requests in one window share one key string (made and hashed once); a new window is a new
 * object, never a changed one (a request waiting on its store keeps its own).
 */
function windowOf(conf: Prepared, l: Limit, id: string, now: number): Window {
  const known = l.windows.get(id);
  if (known !== undefined && now >= known.start && now < known.end) return known;
  let start: number;
  let end: number;
  if (l.fixed > 0) {
    start = Math.floor(now / l.fixed) * l.fixed;
    end = start + l.fixed;
  } else {
    const d = new Date(now * 1000);
    const y = d.getUTCFullYear();
    start = (l.period === 'month' ? Date.UTC(y, d.getUTCMonth(), 1) : Date.UTC(y, 0, 1)) / 1000;
    end = (l.period === 'month' ? Date.UTC(y, d.getUTCMonth() + 1, 1) : Date.UTC(y + 1, 0, 1)) / 1000;
  }
  const win: Window = { key: `${conf.scope}|${id}|${l.period}|${start}`, start, end };
  if (known === undefined && l.windows.size >= WINDOWS_KEPT) l.windows.clear();
  l.windows.set(id, win);
  return win;
}

function identifier(ngx: Ngx, conf: Conf): string {
  switch (conf.limit_by) {
    case 'consumer': {
      const a = authenticatedOf(ngx);
      return a?.consumer?.id ?? a?.credential?.id ?? ip(ngx);
    }
    case 'credential':
      return authenticatedOf(ngx)?.credential?.id ?? ip(ngx);
    case 'header':
      return header(ngx, conf.header_name as string) ?? ip(ngx);
    case 'path':
      return ngx.var.uri === conf.path ? (conf.path as string) : ip(ngx);
    default:
      return ip(ngx);
  }
}

function ip(ngx: Ngx): string {
  return String(ngx.var.remote_addr ?? '');
}

/**
 * `counts`: each window's incr result, this request counted. A failed count follows
 * fault_tolerant; over a limit, the counts are taken back and the request ends with the error.
 */
function decide(ngx: Ngx, conf: Prepared, wins: readonly Window[], counts: readonly unknown[], now: number, services: PluginServices): void {
  const n = conf.limits.length;
  const used: number[] = new Array(n);
  let stop = -1;
  for (let i = 0; i < n; i++) {
    const r = counts[i] as SharedDictIncrResult;
    if (r[0] === undefined) {
      undo(conf, wins, counts, services);
      return storeFailed(ngx, services, conf, new Error(r[1]));
    }
    used[i] = r[0] - 1;
    if ((conf.limits[i] as Limit).max - r[0] < 0) stop = i;
  }
  if (!conf.hide_client_headers) slotsOf(ngx).rateLimitHeaders = clientHeaders(conf, wins, used, stop, now);
  if (stop === -1) return undefined;
  undo(conf, wins, counts, services);
  return kongExit(ngx, conf.error_code, conf.error_message);
}

/** Kong's headers: each window's limit and remaining, RateLimit-* for the tightest, Retry-After when refused. */
function clientHeaders(conf: Prepared, wins: readonly Window[], used: readonly number[], stop: number, now: number): string[] {
  const headers: string[] = [];
  // RateLimit-*: the window closest to its limit (the longer one among equals), as Kong.
  let pick = 0;
  let pickLeft = Infinity;
  for (let i = 0; i < used.length; i++) {
    const l = conf.limits[i] as Limit;
    const remaining = l.max - (used[i] as number);
    const left = Math.max(0, stop === -1 || stop === i ? remaining - 1 : remaining);
    headers.push(l.limitHeader, l.maxText, l.remainingHeader, String(left));
    const win = wins[i] as Window;
    const picked = wins[pick] as Window;
    if (left < pickLeft || (left === pickLeft && win.end - win.start > picked.end - picked.start)) {
      pick = i;
      pickLeft = left;
    }
  }
  const reset = String(Math.max(1, Math.ceil((wins[pick] as Window).end - now)));
  headers.push('RateLimit-Limit', (conf.limits[pick] as Limit).maxText, 'RateLimit-Remaining', String(pickLeft), 'RateLimit-Reset', reset);
  if (stop !== -1) headers.push('Retry-After', String(Math.max(1, Math.ceil((wins[stop] as Window).end - now))));
  return headers;
}

/** Takes back this request's counts (a refused or failed request is not counted). */
function undo(conf: Prepared, wins: readonly Window[], counts: readonly unknown[], services: PluginServices): void {
  const failed = (err: unknown) => services.log('error', `rate-limiting: cannot take a count back in dict "${conf.dict}": ${(err as Error).message}`);
  for (let i = 0; i < wins.length; i++) {
    const counted = counts[i];
    if (!Array.isArray(counted) || counted[0] === undefined) continue;
    try {
      const r = conf.store.incr((wins[i] as Window).key, -1);
      if (isThenable(r)) Promise.resolve(r).catch(failed);
    } catch (err) {
      failed(err);
    }
  }
}

function storeFailed(ngx: Ngx, services: PluginServices, conf: Prepared, err: unknown): void {
  services.log('error', `rate-limiting: failed to get usage from dict "${conf.dict}": ${(err as Error).message}`, ngx);
  if (!conf.fault_tolerant) kongExit(ngx, 500, 'An unexpected error occurred');
}
