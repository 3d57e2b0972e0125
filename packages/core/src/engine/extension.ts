// The extension seam: how features that are not OpenResty's core (HAProxy's Lua contexts,
// Kong-style plugins) plug into an engine without core knowing them.

import type { Clock } from '../clock.js';
import type { LogLevel } from '../ngx/constants.js';
import type { Ngx } from '../ngx/types.js';
import type { Template } from '../request/state.js';
import type { AnySharedDict } from '../shared-dict/index.js';
import type { SchemaExtension } from './config.js';
import type { CompiledHandler, CompiledSetHandler, HandlerSite, ScriptRuntime } from './script-runtime.js';

/**
 * An engine extension: config keys of its own, and per generation (start, reload) hooks that
 * see every location as it compiles, run after init, start, and stop. Pass extensions in
 * `createEngine`'s options; they act in the order given.
 */
export interface EngineExtension {
  /** Names the extension in errors ("haproxy", "plugins"). */
  readonly name: string;
  /** Config keys the extension adds, at the top level and per location (validated with the rest). */
  readonly configSchema?: SchemaExtension;
  /** Called once per generation after the script runtimes started, before any location compiles. */
  generation(context: ExtensionContext): ExtensionGeneration | Promise<ExtensionGeneration>;
}

/** What an extension's generation may use from the engine. */
export interface ExtensionContext {
  /** The validated config, with the extension's own keys. */
  readonly config: Readonly<Record<string, unknown>>;
  readonly runtimes: readonly ScriptRuntime[];
  readonly clock: Clock;
  readonly sharedDicts: Readonly<Record<string, AnySharedDict>>;
  /** Writes an error-log entry (for a request when `ngx` is given). */
  log(level: LogLevel, message: string, ngx?: Ngx, err?: unknown): void;
  /** Compiles a handler spec (a function, `{ lua }`, `{ luaFile }`) with the generation's runtimes. */
  compile(spec: unknown, site: HandlerSite): CompiledHandler;
  /**
   * Opens a request-less `ngx` in `phase` (a background task's, in the timer phase). `close()`
   * releases what the runtimes kept for it; call it when the work is over.
   */
  detached(phase: 'timer' | 'init'): { readonly ngx: Ngx; close(): void };
  /** Runs a handler in the init phase, as the config's `init` runs (a failure stops the start). */
  runInit(handler: CompiledHandler): Promise<void>;
}

/** One location as it compiles: its config (with extension keys) and its handlers, which an extension may wrap. */
export interface LocationCompile {
  /** `locations[3]`: the path config errors name. */
  readonly path: string;
  /** The location's `match`. */
  readonly name: string;
  readonly config: Readonly<Record<string, unknown>>;
  /** Declared variables (nginx `set $a 12;`): name → template; an extension may take some over as set handlers. */
  readonly vars: Map<string, Template>;
  /** set handlers, run in order at the start of rewrite. */
  /**
   * Set handlers, in order. `verbatim`: the result is stored as it is (undefined leaves the
   * variable without a value), for variables with other rules than set_by_lua's (HAProxy's samples).
   */
  readonly set: { var: string; args: readonly Template[]; fn: CompiledSetHandler; verbatim?: boolean }[];
  rewrite: CompiledHandler | undefined;
  access: CompiledHandler | undefined;
  content: CompiledHandler | undefined;
  headerFilter: CompiledHandler | undefined;
  bodyFilter: CompiledHandler | undefined;
  log: CompiledHandler | undefined;
  /** Reports a config problem at `path` (the engine does not start; every issue is listed). */
  issue(path: string, message: string): void;
}

/** An extension's hooks for one generation. */
export interface ExtensionGeneration {
  /** Sees (and may wrap) every location's handlers, in config order. */
  compileLocation?(location: LocationCompile): void;
  /** After the config's `init` handler, still in the init phase. */
  init?(): Promise<void> | void;
  /** After `initWorker`: the generation serves from now on. */
  start?(): void;
  /** The generation retires (reload or close): stop background work. */
  stop?(): Promise<void> | void;
}

/**
 * A narrow handle on a request for extensions: what they may see and change beyond the `ngx` API
 * (which they use for everything else).
 */
export interface RequestControl {
  /** A handler ended the request phases: ngx.exit with a status, ngx.exec, or a failure. */
  readonly ended: boolean;
  /** Output has begun (the response's status and headers are settled). */
  readonly headersSent: boolean;
  /** Marks the request failed: before output a 500, after it the connection closes. */
  fail(): void;
  /** The current value of variable `name` (lower case), or undefined. */
  getVar(name: string): string | undefined;
  /** True when `name` is a variable of this request (declared, or set with setVar). */
  hasVar(name: string): boolean;
  /** Sets variable `name` for this request, declaring it when needed. */
  setVar(name: string, value: string): void;
  /** Unsets `name`: a declared variable becomes empty (nil in Lua); one made by setVar goes away. */
  unsetVar(name: string): void;
}
