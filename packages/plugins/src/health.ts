// Upstream targets' health as the gateway sees it: the config's upstreams (health checks, via the
// engine's upstream:health events) and the dynamic routes' targets (passive: a failed try).

export interface TargetHealth {
  readonly upstream: string;
  readonly target: string;
  readonly healthy: boolean;
}

export class HealthBoard {
  readonly #targets = new Map<string, Map<string, boolean>>();

  /** Records a target (healthy unless known otherwise). */
  add(upstream: string, target: string): void {
    let m = this.#targets.get(upstream);
    if (m === undefined) this.#targets.set(upstream, (m = new Map()));
    if (!m.has(target)) m.set(target, true);
  }

  set(upstream: string, target: string, healthy: boolean): void {
    this.add(upstream, target);
    this.#targets.get(upstream)?.set(target, healthy);
  }

  isHealthy(upstream: string, target: string): boolean {
    return this.#targets.get(upstream)?.get(target) ?? true;
  }

  /** Forgets the targets of `upstream` that are not in `keep` (a dynamic upstream lost some). */
  retain(upstream: string, keep: ReadonlySet<string>): void {
    const m = this.#targets.get(upstream);
    if (m === undefined) return;
    for (const t of [...m.keys()]) if (!keep.has(t)) m.delete(t);
  }

  list(): TargetHealth[] {
    const out: TargetHealth[] = [];
    for (const [upstream, m] of this.#targets) for (const [target, healthy] of m) out.push({ upstream, target, healthy });
    return out;
  }
}
