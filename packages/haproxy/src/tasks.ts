// core.register_task / registerTask: background work of one generation, on the engine's clock, stopped with it.

import { describeError, TaskStoppedError, type Clock, type Ngx } from '@phasekit/core';
import type { HaproxyTask, TaskFn } from './types.js';

export interface TaskDeps {
  readonly clock: Clock;
  /** A request-less `ngx` in the timer phase, one per task; closed when the task ends. */
  newNgx(): { readonly ngx: Ngx; close(): void };
  log(message: string, err: unknown): void;
}

interface Wait {
  cancel(): void;
  reject(err: Error): void;
}

/** How many event-loop turns stop() gives tasks to unwind before it leaves them behind. */
const STOP_TURNS = 20;
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

class TaskImpl implements HaproxyTask {
  readonly ngx: Ngx;
  /** Releases the task's request-less run. */
  readonly close: () => void;
  readonly #clock: Clock;
  readonly #abort = new AbortController();
  readonly #waits = new Set<Wait>();

  constructor(run: { readonly ngx: Ngx; close(): void }, clock: Clock) {
    this.ngx = run.ngx;
    this.close = () => run.close();
    this.#clock = clock;
  }

  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  get stopped(): boolean {
    return this.#abort.signal.aborted;
  }

  sleep(seconds: number): Promise<void> {
    return this.msleep(seconds * 1000);
  }

  msleep(ms: number): Promise<void> {
    return this.#wait((done) => this.#clock.schedule(done, Math.max(0, ms)));
  }

  yield(): Promise<void> {
    return this.#wait((done) => {
      const t = setImmediate(done);
      return () => clearImmediate(t);
    });
  }

  stop(): void {
    this.#abort.abort();
    for (const w of this.#waits) {
      w.cancel();
      w.reject(new TaskStoppedError());
    }
    this.#waits.clear();
  }

  #wait(arm: (done: () => void) => () => void): Promise<void> {
    if (this.stopped) return Promise.reject(new TaskStoppedError());
    return new Promise<void>((resolve, reject) => {
      const w: Wait = {
        cancel: arm(() => {
          this.#waits.delete(w);
          resolve();
        }),
        reject,
      };
      this.#waits.add(w);
    });
  }
}

export class Tasks {
  readonly #deps: TaskDeps;
  readonly #queued: { fn: TaskFn; args: readonly unknown[] }[] = [];
  readonly #byNgx = new WeakMap<Ngx, TaskImpl>();
  readonly #live = new Set<TaskImpl>();
  readonly #runs = new Set<Promise<void>>();
  #started = false;
  #stopped = false;

  constructor(deps: TaskDeps) {
    this.#deps = deps;
  }

  /** Queues a task until start(); after it, starts the task at once. Ignored once stopped. */
  add(fn: TaskFn, args: readonly unknown[]): void {
    if (this.#stopped) return;
    if (this.#started) this.#run(fn, args);
    else this.#queued.push({ fn, args });
  }

  /** Starts the queued tasks (after init and initWorker). */
  start(): void {
    this.#started = true;
    for (const { fn, args } of this.#queued.splice(0)) this.#run(fn, args);
  }

  /** The task whose `ngx` this is. */
  taskOf(ngx: Ngx | undefined): HaproxyTask | undefined {
    return ngx === undefined ? undefined : this.#byNgx.get(ngx);
  }

  get running(): number {
    return this.#live.size;
  }

  /**
   * Stops every task: pending sleeps reject with TaskStoppedError. Resolves once they ended,
   * or after a few event-loop turns for a task waiting on something else (it is left behind).
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#queued.length = 0;
    for (const task of this.#live) task.stop();
    for (let i = 0; i < STOP_TURNS && this.#runs.size > 0; i++) await turn();
  }

  #run(fn: TaskFn, args: readonly unknown[]): void {
    const task = new TaskImpl(this.#deps.newNgx(), this.#deps.clock);
    this.#byNgx.set(task.ngx, task);
    this.#live.add(task);
    let result: unknown;
    try {
      result = fn(task, ...args);
    } catch (err) {
      this.#ended(task, err);
      return;
    }
    const run: Promise<void> = Promise.resolve(result).then(
      () => this.#ended(task, undefined),
      (err: unknown) => this.#ended(task, err),
    );
    this.#runs.add(run);
    void run.finally(() => this.#runs.delete(run));
  }

  #ended(task: TaskImpl, err: unknown): void {
    this.#live.delete(task);
    task.close();
    // A stopped task unwinding (its sleep rejected) is not a failure.
    if (err !== undefined && !task.stopped) this.#deps.log(`task failed: ${describeError(err)}`, err);
  }
}
