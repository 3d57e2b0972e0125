// The phases, as data: one bit each, with OpenResty's names for get_phase() and error texts.

export const PHASES = [
  'init',
  'initWorker',
  'set',
  'rewrite',
  'access',
  'content',
  'balancer',
  'headerFilter',
  'bodyFilter',
  'log',
  'timer',
  'exitWorker',
  'sslCertificate',
] as const;

export type Phase = (typeof PHASES)[number];

/** The request phases a location may configure, in the order a request walks them. */
export const REQUEST_PHASES = ['rewrite', 'access', 'content', 'headerFilter', 'bodyFilter', 'log'] as const;
export type RequestPhase = (typeof REQUEST_PHASES)[number];

/** One bit per phase, in PHASES order (a literal, so lookups stay on V8's fast path). */
export const PHASE_BIT: Readonly<Record<Phase, number>> = {
  init: 1 << 0,
  initWorker: 1 << 1,
  set: 1 << 2,
  rewrite: 1 << 3,
  access: 1 << 4,
  content: 1 << 5,
  balancer: 1 << 6,
  headerFilter: 1 << 7,
  bodyFilter: 1 << 8,
  log: 1 << 9,
  timer: 1 << 10,
  exitWorker: 1 << 11,
  sslCertificate: 1 << 12,
};

/** What `ngx.get_phase()` answers in each phase. */
export const PHASE_NGX_NAME: Readonly<Record<Phase, string>> = {
  init: 'init',
  initWorker: 'init_worker',
  set: 'set',
  rewrite: 'rewrite',
  access: 'access',
  content: 'content',
  balancer: 'balancer',
  headerFilter: 'header_filter',
  bodyFilter: 'body_filter',
  log: 'log',
  timer: 'timer',
  exitWorker: 'exit_worker',
  sslCertificate: 'ssl_cert',
};

/** The directive name OpenResty uses for a phase in "API disabled in the context of ..." */
export const PHASE_CONTEXT_NAME: Readonly<Record<Phase, string>> = {
  init: 'init_by_lua*',
  initWorker: 'init_worker_by_lua*',
  set: 'set_by_lua*',
  rewrite: 'rewrite_by_lua*',
  access: 'access_by_lua*',
  content: 'content_by_lua*',
  balancer: 'balancer_by_lua*',
  headerFilter: 'header_filter_by_lua*',
  bodyFilter: 'body_filter_by_lua*',
  log: 'log_by_lua*',
  timer: 'ngx.timer',
  exitWorker: 'exit_worker_by_lua*',
  sslCertificate: 'ssl_certificate_by_lua*',
};

/** A bit mask holding every phase named. */
export function phaseMask(...phases: Phase[]): number {
  let mask = 0;
  for (const p of phases) mask |= PHASE_BIT[p];
  return mask;
}
