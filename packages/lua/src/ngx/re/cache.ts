// Compiled patterns by (options, pattern). Two least-recently-used tables, each freeing what it
// drops: the "o" cache (lua_regex_cache_max_entries, 1024 by default, 0 = none, as OpenResty) and
// a small table for patterns without "o", which OpenResty compiles on every call (kept so that a
// gmatch or gsub loop, which calls in once per batch, does not compile the pattern each time).

export class PatternCache<T> {
  readonly #max: number;
  readonly #free: (value: T) => void;
  readonly #map = new Map<string, T>();

  constructor(max: number, free: (value: T) => void) {
    this.#max = Math.max(0, Math.trunc(max));
    this.#free = free;
  }

  get size(): number {
    return this.#map.size;
  }

  get(key: string): T | undefined {
    const hit = this.#map.get(key);
    if (hit !== undefined && this.#map.size > 1) {
      this.#map.delete(key);
      this.#map.set(key, hit);
    }
    return hit;
  }

  /** Keeps `value` (false when the cache holds nothing, so the caller frees it after use). */
  set(key: string, value: T): boolean {
    if (this.#max === 0) return false;
    const old = this.#map.get(key);
    if (old !== undefined) {
      this.#map.delete(key);
      if (old !== value) this.#free(old);
    }
    this.#map.set(key, value);
    while (this.#map.size > this.#max) {
      const [oldest, dropped] = this.#map.entries().next().value as [string, T];
      this.#map.delete(oldest);
      this.#free(dropped);
    }
    return true;
  }

  /** Frees everything. */
  clear(): void {
    for (const v of this.#map.values()) this.#free(v);
    this.#map.clear();
  }
}
