// The Lua script runtime: one VM per engine, handlers compiled once, each run in its own coroutine.

import { readFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import {
  LOG_LEVEL_NAMES,
  PHASE_FACTS,
  parseSize,
  requestCpuBudget,
  PHASE_NGX_NAME,
  setTerminator,
  type CompiledHandler,
  type CpuBudget,
  type CompiledSetHandler,
  type HandlerSite,
  type LogLevel,
  type Ngx,
  type RuntimeContext,
  type ScriptRuntime,
  type ScriptSpec,
} from '@phasekit/core';
import { LuaFileError, LuaHandlerError } from './errors.js';
import { installCtxTables, type CtxTables } from './ctx-tables.js';
import { installFields } from './ngx/fields.js';
import { installHeader } from './ngx/header.js';
import { createInstall } from './ngx/install.js';
import { installLocation } from './ngx/location.js';
import { installLog } from './ngx/log.js';
import { installOutput } from './ngx/output.js';
import { installReq } from './ngx/req.js';
import type { RequestInstall } from './ngx/request.js';
import { installBalancer } from './ngx/balancer.js';
import { installShared } from './ngx/shared.js';
import { installSsl } from './ngx/ssl.js';
import { installTimer } from './ngx/timer.js';
import { installVar } from './ngx/var.js';
import { installTime } from './ngx/time.js';
import { installString } from './ngx/string.js';
import { installRe } from './ngx/re/install.js';
import { installCjson } from './modules/cjson.js';
import { installRequire } from './require.js';
import { installLualib } from './lualib.js';
import { createNatives } from './compat/natives.js';
import { LuaVm, type LuaChunk, type LuaRef, type LuaThread, type ResumeResult } from './vm/index.js';
import { LuaRun, type Light, type RunHost, type ThreadControl } from './threads.js';
import { installThread } from './ngx/thread.js';
import { installSemaphore } from './ngx/semaphore.js';
import { installSocket } from './ngx/socket.js';

export interface LuaRuntimeOptions {
  /** Lua CPU time one handler may use, in ms (default: the config's lua.maxRunMs, else 1000; 0 = no limit). */
  maxRunMs?: number;
  /** Cap on the Lua heap, in bytes (default: the config's lua.maxMemory, else 256 MiB; 0 = no cap). */
  memoryMaxBytes?: number;
}

/** Default lua.maxMemory. */
export const DEFAULT_LUA_MAX_MEMORY = '256m';
/** Default lua.reloadAbove. */
export const DEFAULT_LUA_RELOAD_ABOVE = '64m';

/** A script runtime for `{ lua }` and `{ luaFile }` handlers; pass it to createEngine's `runtimes`. */
export function luaRuntime(options: LuaRuntimeOptions = {}): ScriptRuntime {
  return new LuaRuntime(options);
}

const NO_ARGS: readonly string[] = [];


/**
 * What an extension gets to add Lua modules of its own (HAProxy's `core`, TXN, AppletHTTP): the
 * runtime's install context (the VM, the `ngx` table, preload, the running request), and how to
 * run Lua threads as a request's handler.
 */
export interface LuaBinding extends RequestInstall {
  /** Resumes `th` once with `ngx` as the running request. */
  resume(th: LuaThread, ngx: Ngx | undefined): ResumeResult;
  /** Runs `th` as a handler for `ngx`: its first result, or a promise of it when it waits. */
  run(th: LuaThread, ngx: Ngx | undefined): unknown;
  /** `fn` runs when a request that ran Lua code is done (to release what was kept for it). */
  onRequestDone(fn: (ngx: Ngx) => void): void;
  /** Compiles a Lua file (relative to lua.prefix), named in messages as given. */
  compileFile(file: string): LuaChunk;
}

export class LuaRuntime implements ScriptRuntime {
  readonly kinds = ['lua', 'luaFile'] as const;
  readonly #options: LuaRuntimeOptions;
  #vm: LuaVm | undefined;
  #prefix = process.cwd();
  #codeCache = true;
  #logger: RuntimeContext['logger'] | undefined;
  #clock: RuntimeContext['clock'] | undefined;
  #ctx: CtxTables | undefined;
  /** cjson.safe's encode/decode, for handing ngx.ctx to and from tests. */
  #json: { encode: LuaRef; decode: LuaRef } | undefined;
  /** The request whose Lua code is running now (the VM runs one coroutine at a time). */
  #current: Ngx | undefined;
  /** The handler run and light thread whose Lua code is running now. */
  #running: { run: LuaRun; light: Light } | undefined;
  /** Runs that wait, by request (a client abort stops them, or joins its handler to them). */
  readonly #waitingRuns = new Map<Ngx, LuaRun>();
  /** Runs whose threads get the CPU budget per resume (timer callbacks). */
  readonly #resumeScoped = new Set<LuaRun>();
  #lightSeq = 0;
  /** Drops the results user threads left uncollected (set by installThread). */
  #dropResults: ((ids: readonly number[]) => void) | undefined;
  #install: RequestInstall | undefined;
  #reloadAbove = 0;
  #reloadAsked = false;
  /** Wasm memory when the first request's Lua ran (after init): a VM that needs more never thrashes. */
  #baseline = -1;
  #requestReload: RuntimeContext['requestReload'];
  /** The request-budget message handed to the VM, and the budget it was made for. */
  #budgetMessage = '';
  #budgetMessageMs = -1;
  /** Extensions' per-request cleanups (see LuaBinding.onRequestDone). */
  readonly #requestDone: ((ngx: Ngx) => void)[] = [];

  constructor(options: LuaRuntimeOptions = {}) {
    this.#options = options;
  }

  get vm(): LuaVm {
    if (this.#vm === undefined) throw new Error('the Lua runtime has not started');
    return this.#vm;
  }

  async start(context: RuntimeContext): Promise<void> {
    const lua = context.config.lua ?? {};
    this.#prefix = resolve(lua.prefix ?? process.cwd());
    this.#codeCache = lua.codeCache ?? true;
    this.#logger = context.logger;
    this.#clock = context.clock;
    const maxRunMs = this.#options.maxRunMs ?? lua.maxRunMs ?? 1000;
    const maxMemory = this.#options.memoryMaxBytes ?? sizeOf(lua.maxMemory ?? DEFAULT_LUA_MAX_MEMORY);
    this.#reloadAbove = sizeOf(lua.reloadAbove ?? DEFAULT_LUA_RELOAD_ABOVE);
    this.#requestReload = context.requestReload;
    // The hook stays for request budgets even with lua.maxRunMs 0.
    const limits = maxRunMs > 0 || (context.config.requestCpuBudgetMs ?? 1) > 0;
    const vm = await LuaVm.create(maxMemory > 0 ? { maxRunMs, limits, memoryMaxBytes: maxMemory } : { maxRunMs, limits });
    this.#vm = vm;
    const base = createInstall(vm, context.clock);
    const ctxTables = installCtxTables(vm);
    this.#ctx = ctxTables;
    const install: RequestInstall = {
      ...base,
      prefix: this.#prefix,
      request: (call) => this.#current ?? call.raiseError('no request found'),
      maybeRequest: () => this.#current,
      ctxStore: ctxTables.store,
      ctxTable: (call, ngx) => ctxTables.push(call, ngx),
      setCtxTable: (call, ngx) => ctxTables.replace(call, ngx),
      // Timer callbacks may loop and sleep for the engine's life: the CPU budget is per resume.
      runFunction: (fn, ngx, args) => this.#run(this.vm.spawn(fn, { args, limitScope: 'resume' }), ngx, 'resume'),
      onRequestDone: (fn) => {
        this.#requestDone.push(fn);
      },
    };
    installLog(install, context.worker, (level, message) => this.#log(level, message));
    installFields(install, installOutput(install));
    installVar(install);
    installHeader(install);
    installReq(install);
    installShared(install, context.sharedDicts);
    installTimer(install);
    this.#dropResults = installThread(install, this.#threads);
    installSemaphore(install);
    installSocket(install);
    for (const extra of EXTRA_MODULES) extra(install);
    installRe(install, { matchLimit: lua.regexMatchLimit, cacheMaxEntries: lua.regexCacheMaxEntries });
    installLocation(install, (ref) => ctxTables.adopt(ref));
    installSsl(install);
    installBalancer(install);
    const rawLog = (level: number, message: string): void => {
      const r = install.maybeRequest();
      if (r === undefined) this.#log(LOG_LEVEL_NAMES[level] ?? 'error', message);
      else r.log(level, message);
    };
    installLualib(install, createNatives(install, { prefix: this.#prefix, env: lua.env, errorLogLevel: context.config.errorLogLevel, rawLog }));
    installRequire(install, { packagePath: lua.packagePath, prefix: this.#prefix, cacheFiles: this.#codeCache });
    this.#install = install;
    const [encode, decode] = vm.run('local c = (...)["cjson.safe"]("cjson.safe") return c.encode, c.decode', 'ngx.ctx.json', base.preload);
    this.#json = { encode: encode as LuaRef, decode: decode as LuaRef };
    vm.setField(vm.sandbox, 'ngx', base.ngx);
    // require "ngx" and package.loaded.ngx give the ngx table, as in lua-nginx-module
    vm.run('local G, ngx = ... G.package.loaded.ngx = ngx', 'package.loaded', vm.sandbox, base.ngx);
    // Last: everything above may set globals; from here on a new global warns, as OpenResty's guard does.
    vm.run(GLOBAL_GUARD_LUA, '_G write guard', vm.sandbox, base.ngx);
  }

  compile(spec: ScriptSpec, site: HandlerSite): CompiledHandler {
    const chunk = this.#compile(spec, site);
    // Where Lua may not wait (no ngx.sleep, no cosockets) a handler runs as a plain protected call,
    // which costs less than a coroutine. phasekit's log phase allows cosockets: a coroutine there.
    const run = PHASE_FACTS[site.phase].cosockets ? this.#invoke.bind(this) : this.#call.bind(this);
    if (this.#codeCache || spec.kind !== 'luaFile') return (ngx) => run(chunk, ngx, NO_ARGS);
    // lua.codeCache false (lua_code_cache off): the file is read and compiled again for every run.
    return (ngx) => this.#fresh(spec, site, (fresh) => run(fresh, ngx, NO_ARGS));
  }

  compileSet(spec: ScriptSpec, site: HandlerSite): CompiledSetHandler {
    const chunk = this.#compile(spec, site);
    if (this.#codeCache || spec.kind !== 'luaFile') return (ngx, ...args) => this.#call(chunk, ngx, args) as ReturnType<CompiledSetHandler>;
    return (ngx, ...args) => this.#fresh(spec, site, (fresh) => this.#call(fresh, ngx, args)) as ReturnType<CompiledSetHandler>;
  }

  /** Compiles `spec` now, runs it, and frees the compiled chunk once the run is over. */
  #fresh(spec: ScriptSpec, site: HandlerSite, run: (chunk: LuaChunk) => unknown): unknown {
    const chunk = this.#compile(spec, site);
    let result: unknown;
    try {
      result = run(chunk);
    } catch (err) {
      chunk.factory.release();
      throw err;
    }
    if (result instanceof Promise) return result.finally(() => chunk.factory.release());
    chunk.factory.release();
    return result;
  }

  fork(): ScriptRuntime {
    return new LuaRuntime(this.#options);
  }

  ctxOf(ngx: Ngx): Record<string, unknown> | undefined {
    const tables = this.#ctx;
    const key = tables?.key(ngx);
    if (tables === undefined || key === undefined) return undefined;
    const [json] = this.vm.run('local f, store, key = ... local t = store[key] if t == nil then return nil end return f(t)', 'ngx.ctx.export', this.#json?.encode ?? null, tables.store, key);
    return typeof json === 'string' ? (JSON.parse(json) as Record<string, unknown>) : undefined;
  }

  presetCtx(ngx: Ngx, ctx: Record<string, unknown>): void {
    const tables = this.#ctx;
    if (tables === undefined) return;
    this.vm.run('local f, s, store, key = ... local t = f(s) if type(t) == "table" then store[key] = t end', 'ngx.ctx.import', this.#json?.decode ?? null, JSON.stringify(ctx), tables.store, tables.claim(ngx));
  }

  requestDone(ngx: Ngx): void {
    this.#ctx?.release(ngx);
    for (const fn of this.#requestDone) fn(ngx);
    this.#checkMemory();
  }

  /**
   * Wasm memory never shrinks: once the VM's has grown past lua.reloadAbove (a memory bomb, even one
   * stopped by lua.maxMemory), the engine is asked to reload, which builds a fresh VM (shared dicts
   * kept, requests in flight finish on this one) and lets this one's memory go. Asked once per VM,
   * and only past twice what the VM held when requests began (init's data is not a bomb: no reload
   * loop for a VM that needs more than lua.reloadAbove).
   */
  #checkMemory(): void {
    const vm = this.#vm;
    if (this.#reloadAbove === 0 || this.#reloadAsked || vm === undefined || vm.closed) return;
    const bytes = vm.wasmMemoryBytes;
    if (bytes <= this.#reloadAbove || bytes <= 2 * this.#baseline) return;
    this.#reloadAsked = true;
    const mb = (n: number): string => `${Math.round(n / 2 ** 20)} MB`;
    this.#requestReload?.(`the Lua VM's memory grew to ${mb(bytes)}, past lua.reloadAbove (${mb(this.#reloadAbove)})`);
  }

  /** The binding API for extensions that add Lua modules; valid once the runtime has started. */
  binding(): LuaBinding {
    const install = this.#install;
    if (install === undefined) throw new Error('the Lua runtime has not started');
    return {
      ...install,
      resume: (th, ngx) => {
        const outer = this.#current;
        this.#current = ngx;
        try {
          return th.resume();
        } finally {
          this.#current = outer;
        }
      },
      run: (th, ngx) => this.#run(th, ngx),
      onRequestDone: (fn) => {
        this.#requestDone.push(fn);
      },
      compileFile: (file) => {
        const full = isAbsolute(file) ? file : join(this.#prefix, file);
        let source: Buffer;
        try {
          source = readFileSync(full);
        } catch (err) {
          throw new LuaFileError(full, err);
        }
        return this.vm.compile(source, file);
      },
    };
  }

  close(): void {
    this.#requestDone.length = 0;
    this.#install = undefined;
    this.#vm?.close();
    this.#vm = undefined;
  }

  #compile(spec: ScriptSpec, site: HandlerSite): LuaChunk {
    if (spec.kind === 'lua') return this.vm.compile(spec.source, chunkName(site));
    const path = isAbsolute(spec.source) ? spec.source : join(this.#prefix, spec.source);
    let source: Buffer;
    try {
      source = readFileSync(path);
    } catch (err) {
      throw new LuaFileError(path, err);
    }
    const shown = relative(process.cwd(), path);
    return this.vm.compile(source, shown.startsWith('..') ? path : shown);
  }

  /** Runs a handler of a phase that cannot wait: a plain protected call, no coroutine. */
  #call(chunk: LuaChunk, ngx: Ngx, args: readonly (string | undefined)[]): unknown {
    const vm = this.vm;
    if (this.#baseline < 0) this.#baseline = vm.wasmMemoryBytes;
    const outer = this.#current;
    const budget = requestCpuBudget(ngx);
    const prevDeadline = vm.outerDeadline;
    const prevMessage = vm.outerMessage;
    this.#current = ngx;
    if (budget !== undefined) this.#enterBudget(vm, budget);
    let r;
    try {
      r = vm.call(chunk, { args, env: 'sandbox' });
    } finally {
      this.#current = outer;
      if (budget !== undefined) {
        vm.setOuterDeadline(prevDeadline, prevMessage);
        budget.leave();
      }
    }
    if (r.status === 'error') throw new LuaHandlerError(r.message, r.traceback, r.killed);
    return r.values[0];
  }

  /** Opens a counting window on the request's budget and bounds every run in it by the budget's deadline. */
  #enterBudget(vm: LuaVm, budget: CpuBudget): void {
    budget.enter();
    if (this.#budgetMessageMs !== budget.limitMs) {
      this.#budgetMessageMs = budget.limitMs;
      this.#budgetMessage = budget.message();
    }
    vm.setOuterDeadline(budget.deadline, this.#budgetMessage);
  }

  /** Runs a handler: synchronously when it never waits, else as a promise that drives its coroutine. */
  #invoke(chunk: LuaChunk, ngx: Ngx, args: readonly string[]): unknown {
    if (this.#baseline < 0) this.#baseline = this.vm.wasmMemoryBytes;
    return this.#run(this.vm.spawn(chunk, { args, env: 'sandbox' }), ngx);
  }

  #run(th: LuaThread, ngx: Ngx | undefined, limitScope: 'thread' | 'resume' = 'thread'): unknown {
    const run = new LuaRun(this.#runHost, ngx, th);
    if (limitScope === 'resume') this.#resumeScoped.add(run);
    return run.start();
  }

  /** How runs resume their threads: with their request as the running one. */
  readonly #runHost: RunHost = {
    step: (run, light, how) => {
      const outer = this.#current;
      const outerRun = this.#running;
      const vm = this.vm;
      const budget = requestCpuBudget(run.ngx);
      const prevDeadline = vm.outerDeadline;
      const prevMessage = vm.outerMessage;
      this.#current = run.ngx;
      this.#running = { run, light };
      light.running = true;
      if (budget !== undefined) this.#enterBudget(vm, budget);
      try {
        return how();
      } finally {
        if (budget !== undefined) {
          vm.setOuterDeadline(prevDeadline, prevMessage);
          budget.leave();
        }
        light.running = false;
        this.#current = outer;
        this.#running = outerRun;
      }
    },
    userFailed: (run, message, traceback) => {
      const text = `lua user thread aborted: runtime error: ${message}\n${traceback.startsWith(message) ? traceback.slice(message.length + 1) : traceback}`;
      if (run.ngx !== undefined) run.ngx.log(run.ngx.ERR, text);
      else this.#log('error', text);
    },
    waiting: (run) => {
      const ngx = run.ngx;
      if (ngx === undefined) return;
      this.#waitingRuns.set(ngx, run);
      setTerminator(ngx, () => run.terminate());
    },
    finished: (run, zombies) => {
      this.#resumeScoped.delete(run);
      if (run.ngx === undefined) this.#checkMemory();
      const ngx = run.ngx;
      if (ngx !== undefined && this.#waitingRuns.get(ngx) === run) {
        this.#waitingRuns.delete(ngx);
        setTerminator(ngx, undefined);
      }
      if (zombies.length > 0) this.#dropResults?.(zombies);
    },
  };

  /** What ngx.thread and ngx.on_abort use. */
  readonly #threads: ThreadControl = {
    current: () => this.#running,
    newThread: (run, fn, args) => this.vm.spawn(fn, { args, limitScope: this.#resumeScoped.has(run) ? 'resume' : 'thread' }),
    nextId: () => ++this.#lightSeq,
    waitingRun: (ngx) => this.#waitingRuns.get(ngx),
  };

  #log(level: LogLevel, message: string): void {
    this.#logger?.({ level, message, time: this.#clock?.now() ?? Date.now() });
  }
}

/**
 * lua-nginx-module's _G write guard: handlers share one global table (as OpenResty's do), and a
 * global first written outside init and init_worker is logged at warn with its stack, once per
 * name. The ngx.log call sits on line 12 inside __newindex, so the line reads as nginx's:
 * "[lua] _G write guard:12: __newindex(): writing a global Lua variable ('x') ...".
 */
const GLOBAL_GUARD_LUA = `local G, ngx = ...
local rawset, tostring, traceback, get_phase = rawset, tostring, debug.traceback, ngx.get_phase
local quiet = { init = true, init_worker = true }
setmetatable(G, {
  __newindex = function(t, k, v)
    rawset(t, k, v)
    if quiet[get_phase()] then return end
    local msg = "writing a global Lua variable ('" .. tostring(k) .. "') which may lead to race conditions between concurrent requests, so prefer the use of 'local' variables"
    local trace = traceback("", 2)
    -- ngx.log is called on line 12, as in nginx's guard
    --
    ngx.log(ngx.WARN, msg, trace)
  end,
})`;

/** `access(location "= /api")`, `init`, `set_by_lua(location "/")`: what Lua error messages start with. */
function chunkName(site: HandlerSite): string {
  const phase = PHASE_NGX_NAME[site.phase];
  return site.location === undefined ? phase : `${phase}(location "${site.location}")`;
}

function sizeOf(size: number | string): number {
  return typeof size === 'number' ? size : parseSize(size);
}

/** Request-independent API areas: time, strings and digests, regexes, cjson. */
const EXTRA_MODULES: readonly ((ctx: RequestInstall) => void)[] = [installTime, installString, installCjson];
