// prometheus: the log phase counts requests by location, route and status and observes their latency
// into a shared dict (so every worker's requests are served, as Kong keeps them in shm); a location
// with `prometheusMetrics` serves them, with the upstream targets' health, in Prometheus' text format.

import { isAsyncStore, type Ngx, type SharedDictStore } from '@phasekit/core';
import { z } from 'zod';
import type { HealthBoard } from '../health.js';
import { builtin, syncDictNamed, syncOnly, type PluginServices } from './common.js';

export const DEFAULT_METRICS_DICT = 'prometheus_metrics';
export const DEFAULT_BUCKETS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 30000, 60000];
/** Separates a key's parts: metric, labels, bucket. */
const SEP = '\u001f';

const schema = z
  .object({
    dict: z.string().min(1).default(DEFAULT_METRICS_DICT),
    status_code_metrics: z.boolean().default(true),
    latency_metrics: z.boolean().default(true),
    /** Histogram bucket bounds in milliseconds, ascending. */
    latency_buckets: z
      .array(z.number().gt(0, 'expected number > 0'))
      .min(1)
      .refine((b) => b.every((v, i) => i === 0 || v > (b[i - 1] as number)), { message: 'expected ascending bounds' })
      .default(DEFAULT_BUCKETS),
    per_consumer: z.boolean().default(false),
  })
  .strict();

type Conf = z.output<typeof schema>;

interface Prepared extends Conf {
  readonly store: SharedDictStore;
  /** `location="/api/",route="api"`, escaped once. */
  readonly labels: string;
}

export function prometheus(services: PluginServices) {
  return builtin({
    name: 'prometheus',
    priority: 13,
    schema,
    prepare: (conf, site): Prepared => {
      const store = syncDictNamed(services, conf.dict, 'dict');
      const labels = `location="${escapeLabel(site.location)}",route="${escapeLabel(site.route ?? '')}"`;
      // The bounds go beside the counts: the scrape lists every bucket, the empty ones too.
      store.set(`request_latency_ms_bounds${SEP}${labels}`, conf.latency_buckets.join(','));
      return { ...conf, store, labels };
    },
    methods: {
      log: (ngx, conf: Prepared) => record(ngx, conf),
    },
  });
}

function record(ngx: Ngx, conf: Prepared): void {
  const store = conf.store;
  let labels = conf.labels;
  if (conf.per_consumer) {
    const consumer = (ngx.ctx.authenticated_consumer as { username?: string } | undefined)?.username ?? '';
    labels = `${labels},consumer="${escapeLabel(consumer)}"`;
  }
  if (conf.status_code_metrics) store.incr(`http_requests_total${SEP}${labels},code="${ngx.var.status}"`, 1, 0);
  if (conf.latency_metrics) {
    const ms = (ngx.now() - ngx.req.startTime()) * 1000;
    const buckets = conf.latency_buckets;
    let i = 0;
    while (i < buckets.length && ms > (buckets[i] as number)) i++;
    store.incr(`request_latency_ms_bucket${SEP}${labels}${SEP}${i < buckets.length ? buckets[i] : '+Inf'}`, 1, 0);
    store.incr(`request_latency_ms_sum${SEP}${labels}`, ms, 0);
    store.incr(`request_latency_ms_count${SEP}${labels}`, 1, 0);
  }
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** The metrics in Prometheus' text format (0.0.4): counters, the latency histogram, target health. */
export function exposition(store: SharedDictStore, health: HealthBoard): string {
  const requests: string[] = [];
  const hist = new Map<string, { counts: Map<string, number>; bounds: string | undefined; sum: number; count: number }>();
  const histOf = (labels: string) => {
    let h = hist.get(labels);
    if (h === undefined) hist.set(labels, (h = { counts: new Map(), bounds: undefined, sum: 0, count: 0 }));
    return h;
  };
  for (const key of store.getKeys(0).sort()) {
    const value = store.get(key);
    const [metric, labels = '', le = ''] = key.split(SEP);
    if (metric === 'request_latency_ms_bounds') histOf(labels).bounds = String(value);
    if (typeof value !== 'number') continue;
    if (metric === 'http_requests_total') requests.push(`phasekit_http_requests_total{${labels}} ${value}`);
    else if (metric === 'request_latency_ms_bucket') histOf(labels).counts.set(le, value);
    else if (metric === 'request_latency_ms_sum') histOf(labels).sum = value;
    else if (metric === 'request_latency_ms_count') histOf(labels).count = value;
  }
  const out: string[] = [
    '# HELP phasekit_http_requests_total HTTP requests by location, route and status code',
    '# TYPE phasekit_http_requests_total counter',
    ...requests,
    '# HELP phasekit_request_latency_ms Time from the first byte of the request to the log phase, in milliseconds',
    '# TYPE phasekit_request_latency_ms histogram',
  ];
  for (const [labels, h] of hist) {
    if (h.count === 0) continue;
    const bounds = new Set((h.bounds ?? '').split(',').filter((b) => b !== ''));
    for (const le of h.counts.keys()) if (le !== '+Inf') bounds.add(le);
    let cumulative = 0;
    for (const le of [...bounds].sort((a, b) => Number(a) - Number(b))) {
      cumulative += h.counts.get(le) ?? 0;
      out.push(`phasekit_request_latency_ms_bucket{${labels},le="${le}"} ${cumulative}`);
    }
    out.push(`phasekit_request_latency_ms_bucket{${labels},le="+Inf"} ${h.count}`);
    out.push(`phasekit_request_latency_ms_sum{${labels}} ${Number(h.sum.toFixed(3))}`);
    out.push(`phasekit_request_latency_ms_count{${labels}} ${h.count}`);
  }
  out.push('# HELP phasekit_upstream_target_health Health of each upstream target: 1 for the state it is in', '# TYPE phasekit_upstream_target_health gauge');
  for (const t of health.list()) {
    for (const state of ['healthy', 'unhealthy'] as const) {
      const on = (state === 'healthy') === t.healthy ? 1 : 0;
      out.push(`phasekit_upstream_target_health{upstream="${escapeLabel(t.upstream)}",target="${escapeLabel(t.target)}",state="${state}"} ${on}`);
    }
  }
  return `${out.join('\n')}\n`;
}

/** The content handler of a `prometheusMetrics` location. */
export function metricsHandler(services: PluginServices, dict: string) {
  return (ngx: Ngx): void => {
    const store = services.sharedDicts[dict];
    if (store === undefined) throw new Error(`prometheusMetrics: shared dict "${dict}" is not declared`);
    if (isAsyncStore(store)) throw new Error(`prometheusMetrics: ${syncOnly(dict)}`);
    ngx.header['Content-Type'] = 'text/plain; version=0.0.4; charset=utf-8';
    ngx.print(exposition(store, services.health));
  };
}
