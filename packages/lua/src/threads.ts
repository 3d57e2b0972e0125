// One handler run with OpenResty's light threads: the entry thread (the handler) and the user threads
// it spawns (ngx.thread.spawn, ngx.on_abort). The run ends when the entry thread and every user
// thread are done; ngx.exit/exec/redirect in any of them ends it at once and kills the others; an
// error in the entry thread kills the user threads, an error in a user thread is only logged.

import type { Ngx } from '@phasekit/core';
import { LuaHandlerError } from './errors.js';
import { EXIT_SIGNAL } from './ngx/request.js';
import type { LuaRef, LuaThread, LuaValue, ResumeResult } from './vm/index.js';

export interface RunHost {
  /** Runs `how` (a resume of `light`'s thread) with `run`'s request as the running one. */
  step(run: LuaRun, light: Light, how: () => ResumeResult): ResumeResult;
  /** A user thread failed: OpenResty logs "lua user thread aborted: runtime error: ...". */
  userFailed(run: LuaRun, message: string, traceback: string): void;
  /** The run went asynchronous / ended (the host keeps asynchronous runs by request). */
  waiting(run: LuaRun): void;
  /** The run is over; `zombies` are user threads whose results nobody collected. */
  finished(run: LuaRun, zombies: readonly number[]): void;
}

/** nginx's coroutine states for light threads: running (or waiting), zombie (done, not waited for), dead (reaped). */
export type LightState = 'running' | 'zombie' | 'dead';

export class Light {
  readonly id: number;
  readonly th: LuaThread;
  /** The Lua thread that spawned it (only it may wait on or kill it); 0 for the entry thread. */
  readonly parent: number;
  state: LightState = 'running';
  /** Set while a resume of it is under way (it cannot be closed then). */
  running = false;
  /** How it failed (a user thread's wait answers false and this message). */
  failure: string | undefined;
  /** Its parent waits for it (ngx.thread.wait). */
  waiter: ((light: Light) => void) | undefined;

  constructor(id: number, th: LuaThread, parent: number) {
    this.id = id;
    this.th = th;
    this.parent = parent;
  }
}

const nextTurn = (fn: () => void): void => void setImmediate(fn);

export class LuaRun {
  readonly ngx: Ngx | undefined;
  readonly entry: Light;
  readonly #host: RunHost;
  #users: Map<number, Light> | undefined;
  #entryDone = false;
  #value: unknown;
  #error: LuaHandlerError | undefined;
  #finished = false;
  /** ngx.exit (or a client abort) ended the run while a thread was mid-resume. */
  exiting = false;
  #async = false;
  #resolve: ((v: unknown) => void) | undefined;
  #reject: ((e: unknown) => void) | undefined;

  constructor(host: RunHost, ngx: Ngx | undefined, entry: LuaThread) {
    this.#host = host;
    this.ngx = ngx;
    this.entry = new Light(0, entry, 0);
  }

  get finished(): boolean {
    return this.#finished;
  }

  /** Runs the entry thread: its first result now, or a promise when it (or a user thread) waits. */
  start(): unknown {
    const entry = this.entry;
    this.#advance(entry, this.#host.step(this, entry, () => entry.th.resume()));
    if (this.#finished) {
      if (this.#error !== undefined) throw this.#error;
      return this.#value;
    }
    this.#async = true;
    this.#host.waiting(this);
    return new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  /** A user thread of this run, by id (undefined once the run is over). */
  user(id: number): Light | undefined {
    return this.#users?.get(id);
  }

  /** Adds user thread `id` and runs it until it first waits or ends (the caller may be mid-resume). */
  spawn(id: number, th: LuaThread, parent: number): Light {
    const light = new Light(id, th, parent);
    (this.#users ??= new Map()).set(light.id, light);
    this.#advance(light, this.#host.step(this, light, () => th.resume()));
    return light;
  }

  /** Kills a user thread that has not been waited for; false when it was already reaped. */
  kill(light: Light): boolean {
    if (light.state === 'dead') return false;
    if (light.state === 'running') this.#close(light);
    this.#reap(light);
    this.#maybeFinish();
    return true;
  }

  /** Marks a finished user thread as waited for (its results are handed out). */
  reap(light: Light): void {
    this.#reap(light);
  }

  /** Stops everything now (a client that went away with no on_abort handler). */
  terminate(): void {
    if (this.#finished) return;
    this.#exit(undefined);
  }

  #advance(light: Light, first: ResumeResult): void {
    let r = first;
    for (;;) {
      if (this.#finished) return;
      if (r.status === 'done') return this.#done(light, r.values[0]);
      if (r.status === 'error') return this.#failed(light, r);
      if (!r.fromJs) {
        nextTurn(() => this.#resumeLater(light, () => light.th.resume()));
        return;
      }
      const v = r.value;
      if (v === EXIT_SIGNAL) return this.#exit(light);
      if (typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function') {
        (v as PromiseLike<unknown>).then(
          (ok) => this.#resumeLater(light, () => light.th.resolve(ok)),
          (err: unknown) => this.#resumeLater(light, () => light.th.reject(err)),
        );
        return;
      }
      r = this.#host.step(this, light, () => light.th.resolve(v));
    }
  }

  #resumeLater(light: Light, how: () => ResumeResult): void {
    if (this.#finished || light.state !== 'running') return;
    const status = light.th.status;
    if (status !== 'waiting' && status !== 'suspended') return;
    this.#advance(light, this.#host.step(this, light, how));
  }

  #done(light: Light, value: unknown): void {
    if (light === this.entry) {
      light.state = 'dead';
      this.#entryDone = true;
      this.#value = value;
    } else {
      light.state = 'zombie';
      light.waiter?.(light);
    }
    this.#maybeFinish();
  }

  #failed(light: Light, r: Extract<ResumeResult, { status: 'error' }>): void {
    if (light === this.entry) {
      light.state = 'dead';
      this.#killUsers();
      this.#finish(undefined, new LuaHandlerError(r.message, r.traceback, r.killed));
      return;
    }
    light.state = 'zombie';
    light.failure = r.message;
    this.#host.userFailed(this, r.message, r.traceback);
    light.waiter?.(light);
    this.#maybeFinish();
  }

  /** ngx.exit/exec/redirect (or terminate): every other thread is killed and the run ends. */
  #exit(light: Light | undefined): void {
    this.exiting = true;
    if (light !== undefined) {
      light.th.close();
      light.state = 'dead';
    }
    if (this.entry.state === 'running' && !this.entry.running) this.#close(this.entry);
    this.#killUsers();
    // A thread still mid-resume (a spawn whose new thread exited) unwinds with the exit signal itself.
    if (this.entry.running || [...(this.#users?.values() ?? [])].some((u) => u.running)) return;
    this.#finish(undefined, undefined);
  }

  #killUsers(): void {
    for (const u of this.#users?.values() ?? []) {
      if (u.state === 'running' && !u.running) this.#close(u);
      if (!u.running) u.state = 'dead';
    }
  }

  /** Abandons a thread that waits: what it waits on is given up (a socket read, a semaphore). */
  #close(light: Light): void {
    const pending = light.th.waitingOn as { cancel?: () => void } | undefined;
    pending?.cancel?.();
    light.th.close();
    light.state = 'dead';
  }

  #reap(light: Light): void {
    light.state = 'dead';
    light.waiter = undefined;
    this.#users?.delete(light.id);
  }

  #maybeFinish(): void {
    if (this.#finished || !this.#entryDone) return;
    for (const u of this.#users?.values() ?? []) if (u.state === 'running') return;
    this.#finish(this.#value, undefined);
  }

  #finish(value: unknown, error: LuaHandlerError | undefined): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#value = value;
    this.#error = error;
    const zombies: number[] = [];
    for (const u of this.#users?.values() ?? []) if (u.state === 'zombie') zombies.push(u.id);
    this.#users?.clear();
    this.#host.finished(this, zombies);
    if (!this.#async) return;
    if (error !== undefined) this.#reject?.(error);
    else this.#resolve?.(value);
  }
}

/** What ngx.thread and ngx.on_abort need from the runtime. */
export interface ThreadControl {
  /** The run and thread whose Lua code is running now. */
  current(): { run: LuaRun; light: Light } | undefined;
  /** A new Lua thread running `fn(...args)` for `run` (with the run's CPU budget rules). */
  newThread(run: LuaRun, fn: LuaRef, args: readonly LuaValue[]): LuaThread;
  /** A fresh light-thread id (unique in the runtime). */
  nextId(): number;
  /** The run of `ngx`'s request that is waiting now (ngx.on_abort's handler joins it). */
  waitingRun(ngx: Ngx): LuaRun | undefined;
}
