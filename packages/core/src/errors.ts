// Error classes of @phasekit/core; every one has a stable code listed in docs/reference/errors.md.

export const ERROR_CODES = {
  PHASEKIT_ERR_CONFIG: 'the engine config does not match the schema',
  PHASEKIT_ERR_API_DISABLED: 'an API was called in a phase that does not allow it',
  PHASEKIT_ERR_BAD_ARGUMENT: 'an API was called with an argument it does not accept',
  PHASEKIT_ERR_HEADERS_SENT: 'exec, redirect or exit tried to change a response whose headers were sent',
  PHASEKIT_ERR_UNKNOWN_VARIABLE: 'a variable that was not declared, or is read-only, was written',
  PHASEKIT_ERR_NO_RUNTIME: 'a handler spec names a script runtime the engine does not have',
  PHASEKIT_ERR_HANDLER: 'a handler threw or rejected',
  PHASEKIT_ERR_REDIRECT_CYCLE: 'too many internal redirects (exec) for one request',
  PHASEKIT_ERR_NO_LOCATION: 'exec named a location that does not exist',
  PHASEKIT_ERR_ENGINE_CLOSED: 'the engine was closed',
  PHASEKIT_ERR_BODY_NOT_READ: 'the request body was used before it was read',
  PHASEKIT_ERR_SUBREQUEST: 'a subrequest could not be made (nesting too deep)',
  PHASEKIT_ERR_TASK_STOPPED: 'a background task (core.register_task / registerTask) was stopped while it waited',
  PHASEKIT_ERR_WORKERS_UNSUPPORTED: 'worker threads sharing one port need Node.js >= 22.12 on Linux (listen with reusePort)',
  PHASEKIT_ERR_WORKER_START: 'a worker thread failed to start (its config, its init, or listening)',
  PHASEKIT_ERR_CPU_BUDGET: 'a request used more CPU time than requestCpuBudgetMs (over all its phases) and was stopped',
  PHASEKIT_ERR_SHARED_DICT_WAIT: 'a shared dict whose calls wait (a Redis store) was used where a handler cannot wait',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/**
 * An Error whose `instanceof` holds across two installed copies of a package (adapters construct
 * core's errors): every instance carries a `Symbol.for` brand per class of its chain, and
 * `instanceof` checks the brand, as undici's errors do.
 */
export class BrandedError extends Error {
  constructor(message?: string, options?: { cause?: unknown }) {
    super(message, options);
    for (let c: unknown = new.target; typeof c === 'function' && c !== Error; c = Object.getPrototypeOf(c)) {
      Object.defineProperty(this, brandOf(c), { value: true });
    }
  }

  static override [Symbol.hasInstance](instance: unknown): boolean {
    return typeof instance === 'object' && instance !== null && (instance as Record<symbol, unknown>)[brandOf(this)] === true;
  }
}

function brandOf(c: { name: string }): symbol {
  return Symbol.for(`phasekit.error.${c.name}`);
}

/** Base class: every error phasekit raises carries a stable `code`. */
export class PhasekitError extends BrandedError {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PhasekitError';
    this.code = code;
  }
}

export interface ConfigIssue {
  /** Path in the config, e.g. `locations[2].match`. */
  path: string;
  message: string;
}

export class ConfigError extends PhasekitError {
  readonly issues: readonly ConfigIssue[];
  constructor(issues: readonly ConfigIssue[], options?: { cause?: unknown }) {
    super('PHASEKIT_ERR_CONFIG', `invalid config: ${issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ')}`, options);
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

/** OpenResty's `API disabled in the context of <directive>` (or its no-request variants). */
export class ApiDisabledError extends PhasekitError {
  readonly api: string;
  constructor(api: string, message: string) {
    super('PHASEKIT_ERR_API_DISABLED', message);
    this.name = 'ApiDisabledError';
    this.api = api;
  }
}

export class BadArgumentError extends PhasekitError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('PHASEKIT_ERR_BAD_ARGUMENT', message, options);
    this.name = 'BadArgumentError';
  }
}

export class HeadersSentError extends PhasekitError {
  /** `what` completes "attempt to call …", e.g. `ngx.exec after sending out response headers`. */
  constructor(what: string) {
    super('PHASEKIT_ERR_HEADERS_SENT', `attempt to call ${what}`);
    this.name = 'HeadersSentError';
  }
}

export class UnknownVariableError extends PhasekitError {
  constructor(name: string, readOnly = false) {
    super(
      'PHASEKIT_ERR_UNKNOWN_VARIABLE',
      readOnly
        ? `variable "${name}" not changeable`
        : `variable "${name}" not found for writing; maybe it is a built-in variable that is not changeable or you forgot to use "set $${name} '';" in the config file to define it first`,
    );
    this.name = 'UnknownVariableError';
  }
}

export class NoRuntimeError extends PhasekitError {
  constructor(path: string, kind: string, options?: { cause?: unknown }) {
    super('PHASEKIT_ERR_NO_RUNTIME', `${path}: no script runtime handles "${kind}" handlers; create the engine with one (createEngine from "phasekit" includes Lua)`, options);
    this.name = 'NoRuntimeError';
  }
}

/** A handler threw or rejected; `cause` is what it threw. */
export class HandlerError extends PhasekitError {
  readonly phase: string;
  constructor(phase: string, where: string, cause: unknown) {
    super('PHASEKIT_ERR_HANDLER', `${where}: ${describeError(cause)}`, { cause });
    this.name = 'HandlerError';
    this.phase = phase;
  }
}

export class RedirectCycleError extends PhasekitError {
  constructor(uri: string) {
    super('PHASEKIT_ERR_REDIRECT_CYCLE', `rewrite or internal redirection cycle while internally redirecting to "${uri}"`);
    this.name = 'RedirectCycleError';
  }
}

export class NoLocationError extends PhasekitError {
  constructor(name: string) {
    super('PHASEKIT_ERR_NO_LOCATION', `named location "${name}" not found`);
    this.name = 'NoLocationError';
  }
}

export class EngineClosedError extends PhasekitError {
  constructor() {
    super('PHASEKIT_ERR_ENGINE_CLOSED', 'the engine is closed');
    this.name = 'EngineClosedError';
  }
}

export class BodyNotReadError extends PhasekitError {
  constructor(message = 'no request body found; maybe you should turn on lua_need_request_body?') {
    super('PHASEKIT_ERR_BODY_NOT_READ', message);
    this.name = 'BodyNotReadError';
  }
}

/** A request ran past its CPU budget (requestCpuBudgetMs); script runtimes stop it with this code too. */
export class CpuBudgetError extends PhasekitError {
  constructor(message: string) {
    super('PHASEKIT_ERR_CPU_BUDGET', message);
    this.name = 'CpuBudgetError';
  }
}

/** A task's wait ended because the task was stopped (the engine closed or reloaded). */
export class TaskStoppedError extends PhasekitError {
  constructor() {
    super('PHASEKIT_ERR_TASK_STOPPED', 'task stopped: the engine is closing or reloading');
    this.name = 'TaskStoppedError';
  }
}

/** A readable one-line form of anything thrown (Error, string, table-like objects). */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'string') return err;
  try {
    return JSON.stringify(err) ?? String(err);
  } catch {
    return String(err);
  }
}
