// The injectable clock: wall time for TTLs and ngx.now(), and timer scheduling.

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Runs `fn` after `ms` milliseconds; returns a function that cancels it. */
  schedule(fn: () => void, ms: number): () => void;
}

/** The real clock: Date.now() and Node's timers (unref'd, so they never hold the process open). */
export const systemClock: Clock = {
  now: () => Date.now(),
  schedule(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref();
    return () => clearTimeout(t);
  },
};
