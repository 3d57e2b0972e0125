// A Lua coroutine driven from JS: resume it, settle what it waits on, or close it. The Lua side anchors it.
import { LuaVmError } from './errors.js';
import type { LuaValue } from './ref.js';
import { NO_VALUES, type ResumeResult, type Runtime, type ThreadSlot } from './runtime.js';

export type LuaThreadStatus = 'suspended' | 'waiting' | 'done' | 'error' | 'closed';

export class LuaThread {
  readonly #rt: Runtime;
  #slot: ThreadSlot | null;
  #status: LuaThreadStatus = 'suspended';
  #running = false;
  #cpuMs = 0;

  /** @internal Use LuaVm.spawn. */
  constructor(rt: Runtime, slot: ThreadSlot) {
    this.#rt = rt;
    this.#slot = slot;
  }

  /**
   * 'suspended': ready for resume(); 'waiting': a JS function made it wait (settle with resolve/reject);
   * 'done' / 'error': finished (its Lua thread went back to the pool); 'closed': closed before finishing.
   */
  get status(): LuaThreadStatus {
    return this.#status;
  }

  /** While 'waiting': the value its JS function passed to call.yield (usually a promise). */
  get waitingOn(): unknown {
    return this.#status === 'waiting' ? this.#slot?.wait?.value : undefined;
  }

  /** Lua CPU time used so far, in ms (counted against maxRunMs across all resumes). */
  get cpuMs(): number {
    return this.#slot?.cpuMs ?? this.#cpuMs;
  }

  #take(expect: 'suspended' | 'waiting', what: string): ThreadSlot {
    const slot = this.#slot;
    if (this.#rt.closed) throw new LuaVmError('PHASEKIT_ERR_LUA_VM_CLOSED', 'the Lua VM was closed');
    if (slot === null || this.#running || this.#status !== expect) {
      const state = this.#running ? 'running' : this.#status;
      throw new LuaVmError('PHASEKIT_ERR_LUA_THREAD_STATE', `cannot ${what} a Lua thread that is ${state}`);
    }
    return slot;
  }

  /**
   * Runs the thread until it finishes, fails or yields. The first call starts it (values are appended to
   * the spawn args); later calls pass `values` as the results of the yield (for a JS wait, as the results
   * of the waiting call unless its onResume says otherwise).
   */
  resume(...values: LuaValue[]): ResumeResult {
    const s = this.#take(this.#status === 'waiting' ? 'waiting' : 'suspended', 'resume');
    if (values.length === 0) return this.#run(s, NO_VALUES, 0);
    this.#rt.pushValues(s.L, values);
    return this.#run(s, { kind: 'values', count: values.length }, values.length);
  }

  /** Resumes a thread waiting on JS with the fulfilled value (the waiting Lua call returns it). */
  resolve(value: unknown): ResumeResult {
    return this.#run(this.#take('waiting', 'resolve'), { kind: 'resolve', value }, 0);
  }

  /** Resumes a thread waiting on JS with a failure: a Lua error is raised at the waiting call. */
  reject(reason: unknown): ResumeResult {
    return this.#run(this.#take('waiting', 'reject'), { kind: 'reject', reason }, 0);
  }

  #run(slot: ThreadSlot, outcome: Parameters<Runtime['resume']>[1], nargs: number): ResumeResult {
    this.#running = true;
    let r: ResumeResult;
    try {
      r = this.#rt.resume(slot, outcome, nargs);
    } catch (e) {
      this.#running = false;
      this.#finish('closed', slot);
      throw e;
    }
    this.#running = false;
    switch (r.status) {
      case 'done':
        this.#finish('done', slot);
        break;
      case 'error':
        this.#finish('error', slot);
        break;
      case 'yield':
        this.#status = r.fromJs ? 'waiting' : 'suspended';
        break;
    }
    return r;
  }

  #finish(status: LuaThreadStatus, slot: ThreadSlot): void {
    this.#cpuMs = slot.cpuMs;
    this.#slot = null;
    this.#status = status;
  }

  /**
   * Abandons a thread that has not finished: its pending to-be-closed variables are closed and its Lua
   * thread is reused. A no-op once finished. Not allowed from inside the thread's own run.
   */
  close(): void {
    const slot = this.#slot;
    if (slot === null) return;
    if (this.#running) throw new LuaVmError('PHASEKIT_ERR_LUA_THREAD_STATE', 'cannot close a Lua thread from inside its own run');
    this.#finish('closed', slot);
    if (this.#rt.closed) return;
    this.#rt.reset(slot);
  }
}
