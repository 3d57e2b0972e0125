// One engine generation's HAProxy side: its registrations (Lua's, over TypeScript's), init functions,
// tasks, per-request TXN and applet objects, and the host a script runtime builds `core` on.

import { ApiDisabledError, BadArgumentError, checkRequestApi, requestControl, type Clock, type CompiledHandler, type LogLevel, type Ngx, type RequestControl } from '@phasekit/core';
import { AppletImpl } from './applet.js';
import { HaproxyRegistry } from './registry.js';
import { checkArity, runConverter, runFetch } from './sample.js';
import { Tasks } from './tasks.js';
import { TxnImpl, type TxnHost } from './txn.js';
import type { ActionFn, ActionRuleset, AppletHttp, ConverterFn, FetchFn, ServiceFn, TaskFn, Txn, VarValue } from './types.js';

/** HAProxy's log levels (core.emerg … core.debug) as phasekit's. */
const LEVELS: readonly LogLevel[] = ['emerg', 'alert', 'crit', 'error', 'warn', 'notice', 'info', 'debug'];

/** The rule lists `core.register_action` accepts; tcp ones are accepted and unused (phasekit is HTTP). */
const RULESETS: ReadonlySet<string> = new Set(['http-req', 'http-res', 'tcp-req', 'tcp-res']);

/**
 * What a script runtime gets to build HAProxy's `core`, `TXN` and `AppletHTTP` on: every decision
 * (contexts, names, act codes, variables) is made here, the runtime only translates values.
 */
export interface HaproxyHost {
  readonly clock: Clock;
  /** True while luaLoad files run: the body context, where register_* may be called. */
  readonly loading: boolean;
  registerFetch(name: string, fn: FetchFn): string;
  registerConverter(name: string, fn: ConverterFn): string;
  registerAction(name: string, rulesets: readonly string[], fn: ActionFn, nbArgs: number): string;
  registerService(name: string, mode: string, fn: ServiceFn): string;
  /** `fn` runs in the init phase after the config's `init` handler. */
  registerInit(fn: CompiledHandler): void;
  /** Queued until the engine runs, then started; started at once after that. */
  registerTask(fn: TaskFn, args: readonly unknown[]): void;
  /** Whether a fetch / converter answers to this Lua method name (`req_hdr`, `lua_geo`). */
  hasFetchMethod(method: string): boolean;
  hasConverterMethod(method: string): boolean;
  fetchMethod(ngx: Ngx, method: string, args: readonly string[]): string | undefined;
  convertMethod(method: string, value: string, args: readonly string[]): string | undefined;
  txn(ngx: Ngx): Txn;
  /** The applet of the service running for `ngx`; throws outside a service. */
  applet(ngx: Ngx): AppletHttp;
  /** act:wake_time(ms): when an action returning act.YIELD runs again. */
  setWakeTime(ngx: Ngx, ms: number): void;
  /** Throws OpenResty's "API disabled" error unless `ngx`'s phase may wait. */
  checkWait(ngx: Ngx): void;
  /** Waits on the engine's clock (a task's wait ends when it is stopped; a service's output is flushed first). */
  sleep(ngx: Ngx, ms: number): Promise<void>;
  /** True when `ngx` belongs to a task that has been stopped. */
  taskStopped(ngx: Ngx): boolean;
  /** Logs at an HAProxy level (0 emerg … 7 debug). */
  log(ngx: Ngx | undefined, level: number, message: string): void;
}

export interface HaproxyGenerationDeps {
  /** The engine's TypeScript registrations (over the built-ins). */
  readonly parent: HaproxyRegistry;
  readonly clock: Clock;
  /** A request-less `ngx` in the timer phase, for one task (closed when the task ends). */
  taskNgx(): { readonly ngx: Ngx; close(): void };
  log(level: LogLevel, message: string, ngx: Ngx | undefined, err?: unknown): void;
}

export class HaproxyGeneration implements TxnHost {
  /** Lua's registrations of this generation, over the engine's. */
  readonly registry: HaproxyRegistry;
  readonly procVars = new Map<string, VarValue>();
  readonly tasks: Tasks;
  /** core.register_init functions, in order. */
  readonly inits: CompiledHandler[] = [];
  readonly host: HaproxyHost;
  loading = false;
  readonly #deps: HaproxyGenerationDeps;
  readonly #txns = new WeakMap<Ngx, TxnImpl>();
  readonly #applets = new WeakMap<Ngx, AppletImpl>();

  constructor(deps: HaproxyGenerationDeps) {
    this.#deps = deps;
    this.registry = new HaproxyRegistry(deps.parent);
    this.tasks = new Tasks({
      clock: deps.clock,
      newNgx: deps.taskNgx,
      log: (message, err) => deps.log('error', message, undefined, err),
    });
    this.host = this.#makeHost();
  }

  get clock(): Clock {
    return this.#deps.clock;
  }

  control(ngx: Ngx): RequestControl | undefined {
    return requestControl(ngx);
  }

  txn(ngx: Ngx): TxnImpl {
    let txn = this.#txns.get(ngx);
    if (txn === undefined) {
      txn = new TxnImpl(this, ngx);
      this.#txns.set(ngx, txn);
    }
    return txn;
  }

  /** The request's applet, made when its service starts. */
  applet(ngx: Ngx): AppletImpl {
    let applet = this.#applets.get(ngx);
    if (applet === undefined) {
      applet = new AppletImpl(this.txn(ngx));
      this.#applets.set(ngx, applet);
    }
    return applet;
  }

  log(ngx: Ngx | undefined, level: number, message: string): void {
    const name = Number.isInteger(level) ? LEVELS[level] : undefined;
    if (name === undefined) throw new BadArgumentError('Invalid loglevel.');
    // Through the request's ngx.log (HAProxy 0..7 is nginx's 1..8): the entry names the request.
    if (ngx !== undefined) ngx.log(level + 1, message);
    else this.#deps.log(name, message, undefined);
  }

  #bodyOnly(api: string): void {
    if (!this.loading) throw new ApiDisabledError(api, `${api}: only in the body context (while a luaLoad file runs)`);
  }

  #makeHost(): HaproxyHost {
    const reg = this.registry;
    const isLoading = () => this.loading;
    return {
      clock: this.#deps.clock,
      get loading() {
        return isLoading();
      },
      registerFetch: (name, fn) => {
        this.#bodyOnly('core.register_fetches');
        return reg.addFetch(name, fn);
      },
      registerConverter: (name, fn) => {
        this.#bodyOnly('core.register_converters');
        return reg.addConverter(name, fn);
      },
      registerAction: (name, rulesets, fn, nbArgs) => {
        this.#bodyOnly('core.register_action');
        for (const r of rulesets) {
          if (!RULESETS.has(r)) throw new BadArgumentError(`core.register_action: unknown action list "${String(r)}" (http-req, http-res, tcp-req or tcp-res)`);
        }
        return reg.addAction(name, rulesets.filter((r): r is ActionRuleset => r === 'http-req' || r === 'http-res'), fn, nbArgs);
      },
      registerService: (name, mode, fn) => {
        this.#bodyOnly('core.register_service');
        if (mode !== 'http') throw new BadArgumentError(`core.register_service: mode "${String(mode)}" is not supported (only "http")`);
        return reg.addService(name, fn);
      },
      registerInit: (fn) => {
        this.#bodyOnly('core.register_init');
        this.inits.push(fn);
      },
      registerTask: (fn, args) => this.tasks.add(fn, args),
      hasFetchMethod: (method) => reg.fetchMethod(method) !== undefined,
      hasConverterMethod: (method) => reg.converterMethod(method) !== undefined,
      fetchMethod: (ngx, method, args) => {
        const entry = reg.fetchMethod(method);
        if (entry === undefined) throw new BadArgumentError(`unknown sample fetch "${method}"`);
        checkArity('sample fetch', entry, args.length);
        return runFetch(entry, this.txn(ngx), args);
      },
      convertMethod: (method, value, args) => {
        const entry = reg.converterMethod(method);
        if (entry === undefined) throw new BadArgumentError(`unknown converter "${method}"`);
        checkArity('converter', entry, args.length);
        return runConverter(entry, value, args);
      },
      txn: (ngx) => this.txn(ngx),
      applet: (ngx) => {
        const applet = this.#applets.get(ngx);
        if (applet === undefined) throw new ApiDisabledError('applet', 'no applet: this is not a service');
        return applet;
      },
      setWakeTime: (ngx, ms) => {
        this.txn(ngx).wakeTime = ms;
      },
      checkWait: (ngx) => checkRequestApi(ngx, 'ngx.sleep'),
      sleep: (ngx, ms) => {
        const task = this.tasks.taskOf(ngx);
        if (task !== undefined) return ms <= 0 ? task.yield() : task.msleep(ms);
        this.#applets.get(ngx)?.beforeWait();
        if (ms <= 0) return new Promise((resolve) => setImmediate(resolve));
        return new Promise((resolve) => this.#deps.clock.schedule(resolve, ms));
      },
      taskStopped: (ngx) => this.tasks.taskOf(ngx)?.stopped === true,
      log: (ngx, level, message) => this.log(ngx, level, message),
    };
  }
}
