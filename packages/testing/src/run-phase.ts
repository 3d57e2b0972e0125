// runPhase(): one handler (TypeScript or Lua), one phase, a fabricated request, on a throwaway engine.

import {
  createEngine,
  SharedDict,
  type AnySharedDict,
  type Clock,
  type EngineConfig,
  type HandlerSpec,
  type HeaderValue,
  type Chunk,
  type LogEntry,
  type LogLevel,
  type Phase,
  type PhaseOutcome,
  type PhasePreset,
  type PhaseRequest,
  type ScriptRuntime,
  type SetFn,
  type TimerInfo,
} from '@phasekit/core';
import { luaRuntime } from '@phasekit/lua';
import { createClock, type FakeClock } from './clock.js';

/** A set handler given as Lua: `{ lua: 'return ngx.arg[1] + 1' }` or `{ luaFile }`. */
export type SetScript = { lua: string } | { luaFile: string };

/** A shared dict to use as is, or its size (`"1m"`, `"512k"`, bytes) for a fresh one. */
export type SharedDictInput = AnySharedDict | string | number;

export interface RunPhaseOptions {
  /** The request the phase runs for (default `GET /` from 127.0.0.1). */
  request?: PhaseRequest;
  /** `ngx.ctx` as earlier phases left it (plain data; Lua gets a copy as a table). */
  ctx?: Record<string, unknown>;
  /** Declared variables and their values (a location's `vars`): `ngx.var.NAME` reads and writes them. */
  vars?: Record<string, string>;
  /** Shared dicts by name: instances (kept across calls) or sizes (fresh, returned in the result). */
  sharedDicts?: Record<string, SharedDictInput>;
  /** The response so far, as content or an upstream produced it: what headerFilter, bodyFilter and log see. */
  upstream?: {
    status?: number;
    headers?: Record<string, HeaderValue>;
    /** bodyFilter is called once per chunk, the last with eof = true (default: one empty chunk). */
    chunks?: readonly Chunk[];
  };
  /** set: the handler's arguments (`ngx.arg[1]…` in Lua, the extra parameters in TypeScript). */
  args?: readonly string[];
  /**
   * The engine's clock: ngx.now(), TTLs of the fresh dicts, timers, ngx.sleep. Default: a fresh
   * `createClock()`. A fake clock (yours or the default) is moved forward whenever the handler
   * waits (a sleep, a timer it awaits), firing what comes due on the way, so waiting costs no
   * real time. Pass the clock your dicts and engines use, so TTLs and timers agree.
   */
  clock?: Clock;
  /**
   * Clock time (ms) to let pass after the handler returns, before the engine closes: timers it
   * started that are due by then fire normally; the rest fire with premature = true on close.
   * Default 0 (`ngx.timer.at(0, …)` runs, as it would in a server). Needs a fake clock.
   */
  advanceAfter?: number;
  /** Lua handlers: `lua.prefix` (folder for `luaFile` and `require`) and `lua.packagePath`, as in the config. */
  lua?: EngineConfig['lua'];
}

/** One error-log line written during the run. */
export interface RunPhaseLog {
  level: LogLevel;
  message: string;
  /** The phase that was running (`access`, `timer`…), when known. */
  phase: string | undefined;
}

export interface RunPhaseResult extends PhaseOutcome {
  /** Everything logged during the run (every level, debug included), in order. */
  logs: RunPhaseLog[];
  /** Timers pending when the handler finished (after `advanceAfter`); they fired prematurely on close. */
  timers: TimerInfo[];
  /** The dicts the handler saw: the ones given, and fresh ones for sizes. */
  sharedDicts: Record<string, AnySharedDict>;
}

const isLuaSpec = (handler: unknown): boolean =>
  typeof handler === 'object' && handler !== null && ('lua' in handler || 'luaFile' in handler);

const isFake = (clock: Clock): clock is FakeClock => typeof (clock as Partial<FakeClock>).tick === 'function';

/**
 * Shared dicts for tests, from sizes: `createSharedDicts({ limits: '1m' }, clock)`. Pass them to
 * runPhase and to `createEngine(config, { sharedDicts, clock })` so both see the same data, with
 * TTLs on `clock`.
 */
export function createSharedDicts(sizes: Record<string, string | number>, clock?: Clock): Record<string, SharedDict> {
  const dicts: Record<string, SharedDict> = {};
  for (const [name, size] of Object.entries(sizes)) dicts[name] = new SharedDict(name, size, clock === undefined ? {} : { clock });
  return dicts;
}

/**
 * Runs ONE handler (a function, `{ lua }` or `{ luaFile }`; for `set` a set function or
 * `{ lua }`) for ONE phase against a fabricated request, with the phase's API rules as in a
 * server, and reports what happened. Each call has its own engine (and, for Lua, its own VM),
 * closed before the result is returned.
 */
export function runPhase(phase: 'set', handler: SetFn | SetScript, options?: RunPhaseOptions): Promise<RunPhaseResult>;
export function runPhase(phase: Exclude<Phase, 'set'>, handler: HandlerSpec, options?: RunPhaseOptions): Promise<RunPhaseResult>;
export function runPhase(phase: Phase, handler: HandlerSpec | SetFn, options?: RunPhaseOptions): Promise<RunPhaseResult>;
export async function runPhase(phase: Phase, handler: HandlerSpec | SetFn, options: RunPhaseOptions = {}): Promise<RunPhaseResult> {
  const clock = options.clock ?? createClock();
  const logs: RunPhaseLog[] = [];
  const logger = (e: LogEntry) => {
    logs.push({ level: e.level, message: e.message, phase: e.phase });
  };
  const sharedDicts: Record<string, AnySharedDict> = {};
  for (const [name, dict] of Object.entries(options.sharedDicts ?? {})) {
    // Not instanceof: a dict from another copy of @phasekit/core (dist vs src) is a dict all the same.
    sharedDicts[name] = typeof dict === 'object' ? dict : new SharedDict(name, dict, { clock });
  }
  const runtimes: ScriptRuntime[] = isLuaSpec(handler) ? [luaRuntime()] : [];
  const config: EngineConfig = { locations: [], errorLogLevel: 'debug' };
  if (options.lua !== undefined) config.lua = options.lua;
  const engine = await createEngine(config, { logger, clock, runtimes, sharedDicts });
  try {
    const preset: PhasePreset = {};
    if (options.ctx !== undefined) preset.ctx = options.ctx;
    if (options.vars !== undefined) preset.vars = options.vars;
    if (options.args !== undefined) preset.args = options.args;
    const up = options.upstream;
    if (up?.status !== undefined) preset.status = up.status;
    if (up?.headers !== undefined) preset.headers = up.headers;
    if (up?.chunks !== undefined) preset.chunks = up.chunks;
    const running = engine.runPhase(phase, handler, options.request ?? {}, preset);
    const outcome = isFake(clock) ? await drive(running, clock) : await running;
    if (isFake(clock)) await clock.tick(options.advanceAfter ?? 0);
    return { ...outcome, logs, timers: engine.timers, sharedDicts };
  } finally {
    // Pending timers fire prematurely (their logs still land in `logs`); the Lua VM is freed.
    await engine.close();
  }
}

/** Three turns of the event loop: enough for promise chains started by a fired callback to run. */
const settle = async () => {
  for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
};

/**
 * Awaits `work`, moving `clock` to its next due callback whenever `work` has gone quiet
 * (a sleep, a timer it waits on), so waiting costs no real time.
 */
async function drive<T>(work: Promise<T>, clock: FakeClock): Promise<T> {
  let done = false;
  const finished = work.then(
    () => (done = true),
    () => (done = true),
  );
  for (;;) {
    await Promise.race([finished, settle()]);
    if (done) return work;
    if (clock.pending > 0) await clock.runAll(1);
  }
}
