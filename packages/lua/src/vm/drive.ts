// drive(): runs a LuaThread to completion, awaiting what its JS functions wait on, interleaving with other threads.
import type { LuaValue } from './ref.js';
import type { Done, Failure, ResumeResult } from './runtime.js';
import type { LuaThread } from './thread.js';

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Resumes `th` (with `args` on the first resume) until it finishes or fails; a thread already waiting
 * (started by hand) is picked up where it waits:
 * - a JS wait (`call.yield(value)`): a promise is awaited, then the thread is resumed with resolve(v) or,
 *   if it rejected, reject(e) (a Lua error at the waiting call); any other value resumes at once with it;
 * - a Lua-side `coroutine.yield()` at the top of the thread: resumed on the next event-loop turn
 *   (setImmediate), like `ngx.sleep(0)`, so one thread cannot starve the others.
 * If the thread is closed while it waits, resolves to an error result saying so.
 */
export async function drive(th: LuaThread, ...args: LuaValue[]): Promise<Done | Failure> {
  let r: ResumeResult = th.status === 'waiting' ? { status: 'yield', fromJs: true, value: th.waitingOn, values: [] } : th.resume(...args);
  for (;;) {
    if (r.status !== 'yield') return r;
    if (r.fromJs) {
      const v = r.value;
      let ok = true;
      let settled: unknown = v;
      if (isThenable(v)) {
        try {
          settled = await v;
        } catch (e) {
          ok = false;
          settled = e;
        }
      }
      if (th.status !== 'waiting') return closedWhileWaiting(th);
      r = ok ? th.resolve(settled) : th.reject(settled);
    } else {
      await nextTurn();
      if (th.status !== 'suspended') return closedWhileWaiting(th);
      r = th.resume();
    }
  }
}

function closedWhileWaiting(th: LuaThread): Failure {
  const message = `Lua thread was ${th.status} while it waited`;
  return { status: 'error', message, traceback: message, killed: false };
}
