// ngx.timer (at, every, counts) and ngx.worker for TypeScript handlers.

import type { TimerCallback, TimerHandle } from '../engine/timers.js';
import { ApiDisabledError, BadArgumentError } from '../errors.js';
import type { RequestState } from '../request/state.js';
import { allow } from './check.js';
import type { NgxTimer, NgxWorker } from './types.js';

export function timerApi(s: RequestState): NgxTimer {
  return {
    at: (delay, callback, ...args) => createTimer(s, delay, false, callback, args),
    every: (interval, callback, ...args) => createTimer(s, interval, true, callback, args),
    runningCount: () => allow(s, 'ngx.timer').gen.timers.runningCount,
    pendingCount: () => allow(s, 'ngx.timer').gen.timers.pendingCount,
  };
}

export function workerApi(s: RequestState): NgxWorker {
  const gen = s.gen;
  const info = s.engine.worker;
  return {
    id: () => info.id,
    count: () => info.count,
    pid: () => info.pid,
    pids: () => {
      if (s.phase === 'init' || s.phase === 'initWorker') throw new ApiDisabledError('ngx.worker.pids', 'API disabled in the current context');
      return info.pids();
    },
    exiting: () => gen.exiting,
  };
}

function createTimer(s: RequestState, delay: number, every: boolean, callback: TimerCallback, args: unknown[]): [TimerHandle, undefined] | [undefined, string] {
  allow(s, 'ngx.timer');
  const fn = every ? 'every' : 'at';
  if (typeof delay !== 'number' || !Number.isFinite(delay) || delay < 0) throw new BadArgumentError(`bad argument #1 to '${fn}' (number expected)`);
  if (every && delay === 0) throw new BadArgumentError('delay cannot be zero');
  if (typeof callback !== 'function') throw new BadArgumentError(`bad argument #2 to '${fn}' (function expected, got ${typeof callback})`);
  return s.gen.timers.create(delay, every, callback, args);
}
