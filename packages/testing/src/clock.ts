// A fake clock for tests: drives shared-dict TTLs, ngx.now() and timers without real waiting.

import type { Clock } from '@phasekit/core';

export interface FakeClock extends Clock {
  /**
   * Moves time forward by `ms`, firing every due callback in time order, and lets the async
   * work they start (awaits, ngx.sleep under this clock) settle between them.
   */
  tick(ms: number): Promise<void>;
  /** Runs every scheduled callback (and those they schedule) up to `limit` of them. */
  runAll(limit?: number): Promise<void>;
  /** Scheduled callbacks not yet fired. */
  readonly pending: number;
}

interface Task {
  at: number;
  seq: number;
  fn: () => void;
}

/** Lets promise chains started by fired callbacks run before the next callback fires. */
async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** A clock starting at `start` ms since the epoch (default: 2026-01-01T00:00:00Z). */
export function createClock(start = Date.UTC(2026, 0, 1)): FakeClock {
  let now = start;
  let seq = 0;
  const tasks: Task[] = [];
  const next = () => tasks.reduce<Task | undefined>((a, t) => (a === undefined || t.at < a.at || (t.at === a.at && t.seq < a.seq) ? t : a), undefined);
  const take = (task: Task) => tasks.splice(tasks.indexOf(task), 1);
  return {
    now: () => now,
    schedule(fn, ms) {
      const task: Task = { at: now + Math.max(0, ms), seq: ++seq, fn };
      tasks.push(task);
      return () => {
        if (tasks.includes(task)) take(task);
      };
    },
    async tick(ms) {
      const target = now + ms;
      await settle();
      for (let task = next(); task !== undefined && task.at <= target; task = next()) {
        take(task);
        now = task.at;
        task.fn();
        await settle();
      }
      now = target;
      await settle();
    },
    async runAll(limit = 10_000) {
      await settle();
      for (let i = 0, task = next(); task !== undefined && i < limit; i++, task = next()) {
        take(task);
        now = Math.max(now, task.at);
        task.fn();
        await settle();
      }
    },
    get pending() {
      return tasks.length;
    },
  };
}
