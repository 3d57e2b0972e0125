// Which worker an engine is: what ngx.worker.id(), count(), pid() and pids() answer.

/** An engine's place among the workers serving one port (see phasekit's createWorkers). */
export interface WorkerInfo {
  /** 0 .. count - 1. */
  readonly id: number;
  readonly count: number;
  /** This worker's OS id: the process id, or with worker threads the thread's id on Linux (`ps -L`). */
  readonly pid: number;
  /** Every worker's `pid`, in id order. */
  pids(): number[];
}

/** One engine alone in its process: worker 0 of 1, the process id. */
export const SINGLE_WORKER: WorkerInfo = Object.freeze({ id: 0, count: 1, pid: process.pid, pids: () => [process.pid] });
