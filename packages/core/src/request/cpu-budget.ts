// One CPU budget per request: every handler of every phase, its filters and its subrequests draw on it.
//
// Time is counted while a handler runs synchronously (the handler call itself, and each later resume of
// a script runtime's coroutine). Windows nest: the outermost one reads the clock, inner ones (a Lua
// resume inside a phase handler, a body filter run from ngx.say) only read the deadline, so nothing is
// counted twice and a nested run costs no clock read.

export class CpuBudget {
  /** The budget, in ms. */
  readonly limitMs: number;
  /** CPU time counted so far, in ms (windows closed so far). */
  usedMs = 0;
  #depth = 0;
  #since = 0;

  constructor(limitMs: number) {
    this.limitMs = limitMs;
  }

  /** Opens a counting window (nested windows count once, in the outermost). */
  enter(): void {
    if (this.#depth++ === 0) this.#since = performance.now();
  }

  /** Closes the window opened by the matching enter(). */
  leave(): void {
    if (--this.#depth === 0) this.usedMs += performance.now() - this.#since;
  }

  /** performance.now() past which the request is over budget (valid inside a window). */
  get deadline(): number {
    return (this.#depth > 0 ? this.#since : performance.now()) + this.limitMs - this.usedMs;
  }

  /** The budget is spent (as of the last closed window). */
  get spent(): boolean {
    return this.usedMs >= this.limitMs;
  }

  /** What a request stopped by its budget logs. */
  message(): string {
    return `request CPU budget exceeded (requestCpuBudgetMs=${this.limitMs})`;
  }
}

/** Default requestCpuBudgetMs. */
export const DEFAULT_REQUEST_CPU_BUDGET_MS = 1000;
