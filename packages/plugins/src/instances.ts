// From `plugins` entries to a chain: the levels merged (the most specific entry of a plugin wins),
// each conf checked against its plugin's schema (once per entry), prepared per site, and ordered.

import { ConfProblem } from './builtins/common.js';
import { Chain, type PluginInstance } from './chain.js';
import { resolveOrder } from './order.js';
import { joinPath } from './path.js';
import type { PluginEntry, PluginSite, PluginSpec, Validated } from './types.js';

/** An entry with the config path it was written at (`locations[1].plugins[0]`). */
export interface PlacedEntry {
  readonly entry: PluginEntry;
  readonly path: string;
}

export interface Issue {
  path: string;
  message: string;
}

/** Finds plugins by name: the spec, or why there is none. */
export interface PluginLookup {
  get(name: string): PluginSpec | string;
}

export function place(list: readonly PluginEntry[] | undefined, path: string): PlacedEntry[] {
  return (list ?? []).map((entry, i) => ({ entry, path: joinPath(path, i) }));
}

/** Levels from the least to the most specific: a later entry of the same plugin replaces an earlier one; `enabled: false` removes it. */
export function mergeLevels(levels: readonly (readonly PlacedEntry[])[]): PlacedEntry[] {
  const byName = new Map<string, PlacedEntry>();
  for (const level of levels) for (const p of level) byName.set(p.entry.name, p);
  return [...byName.values()].filter((p) => p.entry.enabled !== false);
}

/** Compiles chains, remembering each entry's validation (reported once, at the entry's own path). */
export class ChainCompiler {
  readonly #lookup: PluginLookup;
  readonly #validated = new WeakMap<PluginEntry, { spec: PluginSpec; result: Validated } | undefined>();
  readonly #issues: Issue[];
  readonly #reported = new Set<string>();

  constructor(lookup: PluginLookup, issues: Issue[]) {
    this.#lookup = lookup;
    this.#issues = issues;
  }

  #issue(path: string, message: string): void {
    const key = `${path}\n${message}`;
    if (this.#reported.has(key)) return;
    this.#reported.add(key);
    this.#issues.push({ path, message });
  }

  /** The checked conf of an entry (undefined when the plugin is unknown or the conf is bad; issues recorded). */
  check(p: PlacedEntry): { spec: PluginSpec; value: unknown } | undefined {
    if (!this.#validated.has(p.entry)) {
      const spec = this.#lookup.get(p.entry.name);
      if (typeof spec === 'string') {
        this.#issue(joinPath(p.path, 'name'), spec);
        this.#validated.set(p.entry, undefined);
      } else {
        const result = spec.validate(p.entry.config);
        if (!result.ok) for (const i of result.issues) this.#issue(joinPath(p.path, 'config', i.path), i.message);
        this.#validated.set(p.entry, { spec, result });
      }
    }
    const v = this.#validated.get(p.entry);
    return v === undefined || !v.result.ok ? undefined : { spec: v.spec, value: v.result.value };
  }

  /** The chain of `site` from merged entries; `where` names it in an ordering error. */
  chain(entries: readonly PlacedEntry[], site: PluginSite, where: string): Chain {
    const instances: PluginInstance[] = [];
    for (const p of entries) {
      const checked = this.check(p);
      if (checked === undefined) continue;
      const { spec, value } = checked;
      let conf = value;
      if (spec.prepare !== undefined) {
        try {
          conf = spec.prepare(value, site);
        } catch (err) {
          const sub = err instanceof ConfProblem ? err.path : '';
          this.#issue(joinPath(p.path, 'config', sub), (err as Error).message);
          continue;
        }
      }
      instances.push({ spec, conf, config: value, before: [...spec.before, ...(p.entry.before ?? [])], after: [...spec.after, ...(p.entry.after ?? [])] });
    }
    const ordered = resolveOrder(
      instances.map((i) => ({ name: i.spec.name, priority: i.spec.priority, before: i.before, after: i.after, instance: i })),
      where,
    );
    return new Chain(site, ordered.map((o) => o.instance));
  }
}
