// One generation of an engine: built from a config (runtimes started, extensions' hooks, every
// handler compiled, init and initWorker run) and retired (timers, requests drained, exitWorker).

import { PhasekitError } from '../errors.js';
import type { Logger } from '../log.js';
import type { LogLevel } from '../ngx/constants.js';
import type { Ngx } from '../ngx/types.js';
import type { Phase } from '../phases/facts.js';
import { openDetached, runDetached } from '../phases/lifecycle.js';
import { closeRequest } from '../request/lifecycle.js';
import type { Generation, RequestState } from '../request/state.js';
import { closeUpstreams, startHealthChecks } from '../upstream/upstreams.js';
import { compileHandler, compileServers, compileSetHandler, compileUpstreams, declaredVariables } from './compile.js';
import type { HandlerSpec, ParsedConfig, SetSpec } from './config.js';
import type { EngineCore } from './engine-core.js';
import type { EngineExtension, ExtensionContext, ExtensionGeneration } from './extension.js';
import type { CompiledHandler, HandlerSite, ScriptRuntime } from './script-runtime.js';
import { Timers } from './timers.js';

/** What building a generation needs from its engine. */
export interface GenerationHost {
  readonly engine: EngineCore;
  readonly logger: Logger;
  nextGenerationId(): number;
  /** The request `ngx` belongs to (for log entries), when it is one of this engine's. */
  requestOf(ngx: Ngx): RequestState | undefined;
  /** Reports an upstream peer's health change (log + event). */
  upstreamHealth(upstream: string, peer: string, healthy: boolean): void;
  /** A runtime of `gen` asks for a reload (its memory cannot shrink); ignored unless `gen` is serving. */
  requestReload(gen: Generation, reason: string): void;
}

const site = (phase: Phase, path: string): HandlerSite => ({ phase, location: undefined, path });

/** Starts `runtimes`, lets extensions in, compiles `config`, runs init and initWorker, starts the extensions. */
export async function buildGeneration(host: GenerationHost, config: ParsedConfig, runtimes: readonly ScriptRuntime[], extensions: readonly EngineExtension[]): Promise<Generation> {
  const engine = host.engine;
  // Timers and extension work run on the generation, which exists once everything has compiled.
  const slot: { gen?: Generation } = {};
  const requestReload = (reason: string): void => {
    if (slot.gen !== undefined) host.requestReload(slot.gen, reason);
  };
  const context = { config, sharedDicts: engine.sharedDicts, logger: host.logger, clock: engine.clock, worker: engine.worker, requestReload };
  for (const rt of runtimes) await rt.start(context);
  const live = (): Generation => {
    if (slot.gen === undefined) throw new PhasekitError('PHASEKIT_ERR_BAD_ARGUMENT', 'the generation is still being built');
    return slot.gen;
  };
  const extContext: ExtensionContext = {
    config,
    runtimes,
    clock: engine.clock,
    sharedDicts: engine.sharedDicts,
    log: (level: LogLevel, message, ngx, err) => engine.log(level, message, ngx === undefined ? undefined : host.requestOf(ngx), err),
    compile: (spec, at) => compileHandler(spec as HandlerSpec, runtimes, at),
    compileSet: (spec, at) => compileSetHandler((typeof spec === 'function' ? { var: 'value', handler: spec } : { var: 'value', ...(spec as object) }) as SetSpec, runtimes, at),
    detached: (phase) => {
      const s = openDetached(engine, live(), phase);
      return { ngx: s.ngx, close: () => closeRequest(s) };
    },
    runInit: (handler) => runLifecycle(engine, live(), 'init', handler),
    runInitWorker: (handler) => runLifecycle(engine, live(), 'initWorker', handler),
    events: engine.events,
  };
  const extGens: ExtensionGeneration[] = [];
  let timers: Timers | undefined;
  let stopHealthChecks: (() => void)[] = [];
  let gen: Generation | undefined;
  try {
    for (const ext of extensions) extGens.push(await ext.generation(extContext));
    const servers = compileServers(config, runtimes, extGens);
    const sslCertificate = config.sslCertificate === undefined ? undefined : compileHandler(config.sslCertificate, runtimes, site('sslCertificate', 'sslCertificate'));
    const upstreams = compileUpstreams(config, runtimes);
    timers = new Timers(
      {
        now: () => engine.clock.now(),
        schedule: (fn, ms) => engine.clock.schedule(fn, ms),
        run: (callback) => {
          const done = runDetached(engine, live(), 'timer', callback);
          return done instanceof Promise ? done.then(() => undefined) : undefined;
        },
        log: (level, message) => engine.log(level, message),
      },
      { maxPending: config.maxPendingTimers ?? 1024, maxRunning: config.maxRunningTimers ?? 256 },
    );
    stopHealthChecks = [...upstreams].flatMap(([name, upstream]) => {
      const check = config.upstreams?.[name]?.healthCheck;
      if (check === undefined) return [];
      return startHealthChecks(upstream, check, {
        now: () => engine.clock.now(),
        schedule: (fn, ms) => engine.clock.schedule(fn, ms),
        report: (up, peer, healthy) => host.upstreamHealth(up, peer.address, healthy),
      });
    });
    gen = {
      id: host.nextGenerationId(),
      runtimes,
      servers,
      timers,
      sslCertificate,
      upstreams,
      directUpstreams: new Map(),
      stopHealthChecks,
      extensions: extGens,
      requests: new Set(),
      exiting: false,
      drained: undefined,
      declaredVars: new Set([...declaredVariables(config), ...extGens.flatMap((g) => g.variables ?? []).map((n) => n.toLowerCase())]),
    };
    slot.gen = gen;
    if (config.init) await runLifecycle(engine, gen, 'init', compileHandler(config.init, runtimes, site('init', 'init')));
    for (const ext of extGens) await ext.init?.();
    // An error in initWorker is logged and the engine serves, as nginx's workers do.
    if (config.initWorker) await runDetached(engine, gen, 'initWorker', compileHandler(config.initWorker, runtimes, site('initWorker', 'initWorker')));
    for (const ext of extGens) await ext.initWorker?.();
  } catch (err) {
    await timers?.expire();
    for (const ext of extGens) await ext.stop?.();
    for (const stop of stopHealthChecks) stop();
    if (gen !== undefined) await closeUpstreams([...gen.upstreams.values()]);
    for (const rt of runtimes) await rt.close();
    throw err;
  }
  for (const ext of extGens) ext.start?.();
  return gen;
}

/** Runs an init or initWorker handler; a failure stops the start. */
async function runLifecycle(host: EngineCore, gen: Generation, phase: Phase, handler: CompiledHandler): Promise<void> {
  const s = await runDetached(host, gen, phase, handler);
  if (s.failed) throw new PhasekitError('PHASEKIT_ERR_HANDLER', `${phase} handler failed; the engine does not start`);
}

/**
 * Ends a generation: premature timers, extensions stopped, requests drained (or their connections
 * closed after `timeout` ms), `exitWorker` (when the engine closes), upstreams and runtimes closed.
 */
export async function retireGeneration(host: EngineCore, gen: Generation, options: { timeout: number | undefined; exitWorker: HandlerSpec | undefined; keep: readonly ScriptRuntime[] }): Promise<void> {
  gen.exiting = true;
  await gen.timers.expire();
  for (const ext of gen.extensions) await ext.stop?.();
  if (gen.requests.size > 0) {
    let cancel: (() => void) | undefined;
    await new Promise<void>((resolve) => {
      gen.drained = resolve;
      if (options.timeout !== undefined) {
        cancel = host.clock.schedule(() => {
          host.log('warn', `${gen.requests.size} request(s) still running after the shutdown timeout (${options.timeout as number} ms): connections closed`);
          for (const s of gen.requests) s.exchange.abort();
          resolve();
        }, options.timeout);
      }
    });
    cancel?.();
  }
  if (options.exitWorker !== undefined) {
    await runDetached(host, gen, 'exitWorker', compileHandler(options.exitWorker, gen.runtimes, site('exitWorker', 'exitWorker')));
  }
  for (const stop of gen.stopHealthChecks) stop();
  await closeUpstreams([...gen.upstreams.values(), ...gen.directUpstreams.values()]);
  for (const rt of gen.runtimes) if (!options.keep.includes(rt)) await rt.close();
}
