// A dynamic upstream: its targets, weighted round robin over the healthy ones, passive health (a
// target whose try failed sits out fail_timeout seconds).

import type { HealthBoard } from '../health.js';
import type { DeclarativeUpstream } from './declarative.js';
import { parseTarget } from './target.js';

export interface Target {
  readonly address: string;
  readonly host: string;
  readonly port: number;
  readonly weight: number;
}

/** When failed targets come back, per upstream and target (kept across reloads of the routes). */
export type DownUntil = Map<string, number>;

export class DynamicUpstream {
  readonly name: string;
  readonly targets: readonly Target[];
  readonly #failTimeout: number;
  readonly #health: HealthBoard;
  readonly #down: DownUntil;
  readonly #ring: readonly Target[];
  #next = 0;

  constructor(config: DeclarativeUpstream, health: HealthBoard, down: DownUntil) {
    this.name = config.name;
    this.targets = config.targets.flatMap((t) => {
      const o = typeof t === 'string' ? { target: t } : t;
      const addr = parseTarget(o.target);
      if (addr === undefined) return [];
      return [{ address: o.target, host: addr.host, port: addr.port, weight: o.weight ?? 100 }];
    });
    this.#failTimeout = (config.fail_timeout ?? 10) * 1000;
    this.#health = health;
    this.#down = down;
    // Weights as repetitions (divided by their gcd), interleaved: a small ring, cheap to walk.
    const g = this.targets.reduce((a, t) => gcd(a, t.weight), 0) || 1;
    const ring: Target[] = [];
    const counts = this.targets.map((t) => t.weight / g);
    for (let more = true; more; ) {
      more = false;
      this.targets.forEach((t, i) => {
        if ((counts[i] as number) > 0) {
          ring.push(t);
          counts[i] = (counts[i] as number) - 1;
          more = true;
        }
      });
    }
    this.#ring = ring;
    for (const t of this.targets) health.add(this.name, t.address);
    health.retain(this.name, new Set(this.targets.map((t) => t.address)));
  }

  /** The next target not in `tried` and not sitting out; a sitting-out one when none is left. */
  pick(now: number, tried: ReadonlySet<string>): Target | undefined {
    const n = this.#ring.length;
    let fallback: Target | undefined;
    for (let k = 0; k < n; k++) {
      const t = this.#ring[(this.#next + k) % n] as Target;
      if (tried.has(t.address)) continue;
      if (this.#isDown(t, now)) {
        fallback ??= t;
        continue;
      }
      this.#next = (this.#next + k + 1) % n;
      return t;
    }
    return fallback;
  }

  failed(target: Target, now: number): void {
    this.#down.set(`${this.name}\n${target.address}`, now + this.#failTimeout);
    this.#health.set(this.name, target.address, false);
  }

  #isDown(t: Target, now: number): boolean {
    const key = `${this.name}\n${t.address}`;
    const until = this.#down.get(key);
    if (until === undefined) return false;
    if (now < until) return true;
    this.#down.delete(key);
    this.#health.set(this.name, t.address, true);
    return false;
  }
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}
