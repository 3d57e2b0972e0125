// ngx.timer.at / every: pending and running timers of one engine generation, with OpenResty's limits.

import type { Ngx } from '../ngx/types.js';

/** A timer callback: gets the timer's own `ngx` (phase "timer"), `premature`, then the extra args. */
export type TimerCallback = (ngx: Ngx, premature: boolean, ...args: unknown[]) => unknown;

/** What `ngx.timer.at/every` return in TypeScript on success (OpenResty returns 1). */
export interface TimerHandle {
  readonly id: number;
  /** Stops the timer; false when it already ran (an `at` timer) or was cancelled. */
  cancel(): boolean;
}

export interface TimerInfo {
  readonly id: number;
  /** Seconds, as given. */
  readonly delay: number;
  readonly every: boolean;
  /** When it fires next, ms since the epoch (engine clock). */
  readonly dueAt: number;
}

export interface TimerLimits {
  maxPending: number;
  maxRunning: number;
}

interface Entry extends TimerInfo {
  dueAt: number;
  readonly callback: TimerCallback;
  readonly args: readonly unknown[];
  cancelSchedule: () => void;
}

/** How a generation runs a callback (in the timer phase, errors logged) and schedules it. */
export interface TimerHost {
  now(): number;
  schedule(fn: () => void, ms: number): () => void;
  /** Runs the callback in the timer phase; resolves when it has finished (errors are logged there). */
  run(callback: (ngx: Ngx) => unknown): Promise<void> | void;
  log(level: 'error' | 'warn' | 'alert', message: string): void;
}

export class Timers {
  readonly #host: TimerHost;
  readonly #limits: TimerLimits;
  readonly #pending = new Map<number, Entry>();
  readonly #runs = new Set<Promise<void>>();
  #running = 0;
  #seq = 0;
  #closing = false;

  constructor(host: TimerHost, limits: TimerLimits) {
    this.#host = host;
    this.#limits = limits;
  }

  get pendingCount(): number {
    return this.#pending.size;
  }

  get runningCount(): number {
    return this.#running;
  }

  list(): TimerInfo[] {
    return [...this.#pending.values()].map(({ id, delay, every, dueAt }) => ({ id, delay, every, dueAt }));
  }

  /** ngx.timer.at / every: a handle, or `[undefined, "too many pending timers"]` past the limit. */
  create(delay: number, every: boolean, callback: TimerCallback, args: readonly unknown[]): [TimerHandle, undefined] | [undefined, string] {
    if (this.#closing) return [undefined, 'process exiting'];
    if (this.#pending.size >= this.#limits.maxPending) return [undefined, 'too many pending timers'];
    const id = ++this.#seq;
    const ms = delay * 1000;
    const entry: Entry = { id, delay, every, dueAt: this.#host.now() + ms, callback, args, cancelSchedule: () => undefined };
    entry.cancelSchedule = this.#host.schedule(() => this.#fire(entry, false), ms);
    this.#pending.set(id, entry);
    return [
      {
        id,
        cancel: () => {
          if (!this.#pending.delete(id)) return false;
          entry.cancelSchedule();
          return true;
        },
      },
      undefined,
    ];
  }

  /** Fires every pending timer with premature = true and waits for all callbacks to finish. */
  async expire(): Promise<void> {
    this.#closing = true;
    const entries = [...this.#pending.values()];
    for (const e of entries) {
      e.cancelSchedule();
      this.#fire(e, true);
    }
    while (this.#runs.size > 0) await Promise.all([...this.#runs]);
  }

  #fire(entry: Entry, premature: boolean): void {
    if (!this.#pending.has(entry.id)) return;
    if (entry.every && !premature && !this.#closing) {
      const ms = entry.delay * 1000;
      entry.dueAt = this.#host.now() + ms;
      entry.cancelSchedule = this.#host.schedule(() => this.#fire(entry, false), ms);
    } else {
      this.#pending.delete(entry.id);
    }
    if (this.#running >= this.#limits.maxRunning && !premature) {
      this.#host.log('alert', `${this.#limits.maxRunning} lua_max_running_timers are not enough`);
      return;
    }
    this.#running++;
    let run: Promise<void> | void;
    try {
      run = this.#host.run((ngx) => entry.callback(ngx, premature, ...entry.args));
    } catch (err) {
      run = undefined;
      this.#host.log('error', `timer callback failed: ${(err as Error).message}`);
    }
    if (run === undefined) {
      this.#running--;
      return;
    }
    const tracked: Promise<void> = run.finally(() => {
      this.#running--;
      this.#runs.delete(tracked);
    });
    this.#runs.add(tracked);
  }
}
