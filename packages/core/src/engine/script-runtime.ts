// Handler specs compiled to one callable shape, and the interface a script runtime (Lua) implements.

import type { HandlerFn, SetFn } from './config.js';
import type { Logger } from '../log.js';
import type { Ngx } from '../ngx/types.js';
import type { Clock } from '../clock.js';
import type { Phase } from '../phases/facts.js';
import type { AnySharedDict } from '../shared-dict/index.js';
import type { WorkerInfo } from './worker.js';

/** Every handler, whatever its language, becomes this: called with the request's ngx. */
export type CompiledHandler = HandlerFn;
export type CompiledSetHandler = SetFn;

/** Where a handler sits, for error messages and Lua chunk names (`access(location "= /api")`). */
export interface HandlerSite {
  phase: Phase;
  /** The location's `match`, or undefined for init/initWorker/exitWorker. */
  location: string | undefined;
  /** The config path, `locations[2].access`. */
  path: string;
}

/** A `{ lua }` or `{ luaFile }` handler as the config gives it. */
export interface ScriptSpec {
  kind: 'lua' | 'luaFile';
  source: string;
}

/** What the engine hands a runtime when it starts. */
export interface RuntimeContext {
  readonly config: Readonly<{
    lua?: {
      packagePath?: string;
      codeCache?: boolean;
      maxRunMs?: number;
      maxMemory?: number | string;
      reloadAbove?: number | string;
      prefix?: string;
      env?: readonly string[];
      regexMatchLimit?: number;
      regexCacheMaxEntries?: number;
    };
    errorLogLevel?: string;
    requestCpuBudgetMs?: number;
  }>;
  readonly sharedDicts: Readonly<Record<string, AnySharedDict>>;
  readonly logger: Logger;
  readonly clock: Clock;
  /** Which worker the engine is (ngx.worker.*). */
  readonly worker: WorkerInfo;
  /**
   * Asks the engine to reload (a fresh generation: new runtimes, shared dicts kept, requests in flight
   * finish on the old one), e.g. because this runtime's memory cannot shrink; `reason` is logged.
   */
  readonly requestReload?: (reason: string) => void;
}

/**
 * A script runtime turns `{ lua }`-style specs into handlers. @phasekit/lua implements it;
 * core never imports a runtime.
 */
export interface ScriptRuntime {
  /** Spec keys it compiles, e.g. `["lua", "luaFile"]`. */
  readonly kinds: readonly string[];
  /** Called once per engine start (and per reload) before any compile. */
  start(context: RuntimeContext): Promise<void> | void;
  /** Compiles one handler; throws (e.g. a syntax error naming site and line) to stop the engine starting. */
  compile(spec: ScriptSpec, site: HandlerSite): CompiledHandler;
  compileSet(spec: ScriptSpec, site: HandlerSite): CompiledSetHandler;
  /** A new, unstarted runtime of the same kind and options, for `engine.reload()`'s fresh VM. */
  fork?(): ScriptRuntime;
  /** Tests: the request's ctx as this runtime's handlers see it, as plain data. */
  ctxOf?(ngx: Ngx): Record<string, unknown> | undefined;
  /** Tests: presets the request's ctx for this runtime's handlers. */
  presetCtx?(ngx: Ngx, ctx: Record<string, unknown>): void;
  /** A request that ran one of this runtime's handlers has finished (after its log phase). */
  requestDone?(ngx: Ngx): void;
  close(): Promise<void> | void;
}
