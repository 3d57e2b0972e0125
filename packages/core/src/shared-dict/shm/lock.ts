// A mutex in one Int32 of shared memory (futex style): 0 is free; otherwise the owner's id << 1,
// with bit 0 set when a thread may be waiting. Uncontended, lock and unlock are one atomic each.

import { threadId } from 'node:worker_threads';

/** This thread's lock word value: its worker_threads id + 1 (the main thread is 0), shifted. */
export const OWNER = (threadId + 1) << 1;

const SPINS = 64;

export function lock(i32: Int32Array, at: number): void {
  if (Atomics.compareExchange(i32, at, 0, OWNER) !== 0) lockSlow(i32, at);
}

function lockSlow(i32: Int32Array, at: number): void {
  for (let i = 0; i < SPINS; i++) {
    if (Atomics.load(i32, at) === 0 && Atomics.compareExchange(i32, at, 0, OWNER) === 0) return;
  }
  for (;;) {
    const v = Atomics.load(i32, at);
    if (v === 0) {
      // Taken with the waiter bit: another thread may still be sleeping on the word.
      if (Atomics.compareExchange(i32, at, 0, OWNER | 1) === 0) return;
      continue;
    }
    if ((v & 1) === 0 && Atomics.compareExchange(i32, at, v, v | 1) !== v) continue;
    Atomics.wait(i32, at, v | 1);
  }
}

export function unlock(i32: Int32Array, at: number): void {
  if ((Atomics.exchange(i32, at, 0) & 1) !== 0) Atomics.notify(i32, at, 1);
}

/** The worker_threads id of the thread holding the lock, or -1 when it is free. */
export function lockOwner(i32: Int32Array, at: number): number {
  const v = Atomics.load(i32, at);
  return v === 0 ? -1 : (v >>> 1) - 1;
}

/** Frees a lock whose owner is gone (its thread died inside a dict call). */
export function forceUnlock(i32: Int32Array, at: number): void {
  Atomics.store(i32, at, 0);
  Atomics.notify(i32, at);
}
