// The phases, as data: one record per phase (its bit, OpenResty's names, what it may do); every
// other list of phases (which may wait, which may return a promise, where ngx.exit unwinds) is
// derived from this table.

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

export interface PhaseFacts {
  /** One bit per phase, in PHASES order. */
  readonly bit: number;
  /** What `ngx.get_phase()` answers. */
  readonly ngxName: string;
  /** The directive OpenResty names in "API disabled in the context of ...". */
  readonly contextName: string;
  /** Lua handlers may wait here (ngx.sleep, subrequests, body reads): they run in a coroutine. */
  readonly yields: boolean;
  /**
   * Cosockets (ngx.socket.*) may wait here: every phase that yields, and phasekit's log phase, which
   * runs after the response is finished (OpenResty refuses cosockets there). Lua handlers of such a
   * phase run in a coroutine.
   */
  readonly cosockets: boolean;
  /** A TypeScript handler may return a promise (the engine awaits it); elsewhere that is an error. */
  readonly async: boolean;
  /** `ngx.exit` ends the Lua handler at once; elsewhere (header_filter, balancer) the code after it runs. */
  readonly exitUnwinds: boolean;
  /** The phase runs for a request (ngx.var, ngx.req, ngx.header...). */
  readonly request: boolean;
}

const fact = (bit: number, ngxName: string, contextName: string, f: Omit<PhaseFacts, 'bit' | 'ngxName' | 'contextName' | 'cosockets'> & { cosockets?: boolean }): PhaseFacts =>
  Object.freeze({ bit: 1 << bit, ngxName, contextName, ...f, cosockets: f.cosockets ?? f.yields });

/** The one table of phase facts, as observed on lua-nginx-module 0.10.23. */
export const PHASE_FACTS: Readonly<Record<Phase, PhaseFacts>> = {
  init: fact(0, 'init', 'init_by_lua*', { yields: false, async: true, exitUnwinds: true, request: false }),
  initWorker: fact(1, 'init_worker', 'init_worker_by_lua*', { yields: false, async: true, exitUnwinds: true, request: false }),
  set: fact(2, 'set', 'set_by_lua*', { yields: false, async: false, exitUnwinds: true, request: true }),
  rewrite: fact(3, 'rewrite', 'rewrite_by_lua*', { yields: true, async: true, exitUnwinds: true, request: true }),
  access: fact(4, 'access', 'access_by_lua*', { yields: true, async: true, exitUnwinds: true, request: true }),
  content: fact(5, 'content', 'content_by_lua*', { yields: true, async: true, exitUnwinds: true, request: true }),
  balancer: fact(6, 'balancer', 'balancer_by_lua*', { yields: false, async: false, exitUnwinds: false, request: true }),
  headerFilter: fact(7, 'header_filter', 'header_filter_by_lua*', { yields: false, async: false, exitUnwinds: false, request: true }),
  bodyFilter: fact(8, 'body_filter', 'body_filter_by_lua*', { yields: false, async: false, exitUnwinds: true, request: true }),
  // phasekit's log phase runs after the response is finished: TypeScript may await there, and
  // cosockets may be used (a deliberate difference from OpenResty, see docs/openresty-differences.md).
  log: fact(9, 'log', 'log_by_lua*', { yields: false, cosockets: true, async: true, exitUnwinds: true, request: true }),
  timer: fact(10, 'timer', 'ngx.timer', { yields: true, async: true, exitUnwinds: true, request: false }),
  exitWorker: fact(11, 'exit_worker', 'exit_worker_by_lua*', { yields: false, async: true, exitUnwinds: true, request: false }),
  sslCertificate: fact(12, 'ssl_cert', 'ssl_certificate_by_lua*', { yields: true, async: true, exitUnwinds: true, request: false }),
};

function derive<T>(pick: (f: PhaseFacts) => T): Readonly<Record<Phase, T>> {
  return Object.fromEntries(PHASES.map((p) => [p, pick(PHASE_FACTS[p])])) as Record<Phase, T>;
}

/** One bit per phase (derived from PHASE_FACTS). */
export const PHASE_BIT: Readonly<Record<Phase, number>> = derive((f) => f.bit);
/** What `ngx.get_phase()` answers in each phase. */
export const PHASE_NGX_NAME: Readonly<Record<Phase, string>> = derive((f) => f.ngxName);
/** The directive name OpenResty uses for a phase in "API disabled in the context of ..." */
export const PHASE_CONTEXT_NAME: Readonly<Record<Phase, string>> = derive((f) => f.contextName);

/** The phase whose bit is `bit` (exactly one bit set). */
export function phaseOfBit(bit: number): Phase {
  const phase = PHASES[31 - Math.clz32(bit)];
  if (phase === undefined || PHASE_BIT[phase] !== bit) throw new RangeError(`not a phase bit: ${bit}`);
  return phase;
}

/** A bit mask holding every phase named. */
export function phaseMask(...phases: Phase[]): number {
  let mask = 0;
  for (const p of phases) mask |= PHASE_BIT[p];
  return mask;
}

/** A bit mask of every phase whose facts pass `test`. */
export function maskWhere(test: (f: PhaseFacts) => boolean): number {
  let mask = 0;
  for (const p of PHASES) if (test(PHASE_FACTS[p])) mask |= PHASE_FACTS[p].bit;
  return mask;
}

/** Phases where Lua may wait (coroutines); the rest run as a plain protected call. */
export const YIELDING_PHASES = maskWhere((f) => f.yields);
/** Phases where cosockets may wait (Lua handlers there run in a coroutine). */
export const COSOCKET_PHASES = maskWhere((f) => f.cosockets);
/** Phases where a TypeScript handler may return a promise. */
export const ASYNC_PHASES = maskWhere((f) => f.async);
/** Phases where ngx.exit ends the handler at once. */
export const EXIT_UNWINDS_PHASES = maskWhere((f) => f.exitUnwinds);
/** Phases with a request. */
export const REQUEST_PHASE_MASK = maskWhere((f) => f.request);
