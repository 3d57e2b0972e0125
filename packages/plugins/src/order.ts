// The order plugins run in: descending priority (Kong's), equal priorities in config order, with
// before/after constraints between named plugins over that; a cycle is an error naming it.

import { PluginOrderError } from './errors.js';

export interface OrderItem {
  readonly name: string;
  readonly priority: number;
  /** Plugins this one must run before / after (names not in the list are ignored). */
  readonly before: readonly string[];
  readonly after: readonly string[];
}

/** Sorts `items` (config order given); throws PluginOrderError (naming `where`) on a cycle. */
export function resolveOrder<T extends OrderItem>(items: readonly T[], where: string): T[] {
  const n = items.length;
  if (n < 2) return [...items];
  const index = new Map(items.map((it, i) => [it.name, i] as const));
  const next: Set<number>[] = items.map(() => new Set());
  for (let i = 0; i < n; i++) {
    const it = items[i] as T;
    for (const b of it.before) {
      const j = index.get(b);
      if (j !== undefined && j !== i) next[i]?.add(j);
    }
    for (const a of it.after) {
      const j = index.get(a);
      if (j !== undefined && j !== i) next[j]?.add(i);
    }
  }
  const indegree = items.map(() => 0);
  for (const set of next) for (const j of set) indegree[j] = (indegree[j] ?? 0) + 1;
  const done: boolean[] = items.map(() => false);
  const out: T[] = [];
  for (let k = 0; k < n; k++) {
    // The ready plugin with the highest priority; the first in config order among equals.
    let pick = -1;
    for (let i = 0; i < n; i++) {
      if (done[i] || indegree[i] !== 0) continue;
      if (pick === -1 || (items[i] as T).priority > (items[pick] as T).priority) pick = i;
    }
    if (pick === -1) throw new PluginOrderError(where, findCycle(items, next, done));
    done[pick] = true;
    out.push(items[pick] as T);
    for (const j of next[pick] as Set<number>) indegree[j] = (indegree[j] ?? 0) - 1;
  }
  return out;
}

/** A cycle among the plugins not yet placed, as names with the first repeated at the end. */
function findCycle(items: readonly OrderItem[], next: readonly Set<number>[], done: readonly boolean[]): string[] {
  const state = items.map(() => 0); // 0 new, 1 on the path, 2 finished
  const path: number[] = [];
  const visit = (i: number): number[] | undefined => {
    state[i] = 1;
    path.push(i);
    for (const j of next[i] as Set<number>) {
      if (done[j]) continue;
      if (state[j] === 1) return [...path.slice(path.indexOf(j)), j];
      if (state[j] === 0) {
        const found = visit(j);
        if (found !== undefined) return found;
      }
    }
    path.pop();
    state[i] = 2;
    return undefined;
  };
  for (let i = 0; i < items.length; i++) {
    if (done[i] || state[i] !== 0) continue;
    const cycle = visit(i);
    if (cycle !== undefined) return cycle.map((c) => (items[c] as OrderItem).name);
  }
  return [];
}
