// (pattern, options) → a compiled pattern from the caches, or compiled now; or the error message
// lua-nginx-module gives. Owns the engine's limits (lua_regex_match_limit, ngx.re.opt).

import { PatternCache } from './cache.js';
import { compileErrorMessage, compileErrorText, pcre8Position } from './compile-errors.js';
import { parseOptions, type ReOptions } from './options.js';
import { Pcre2, type Pcre2Regex } from './pcre2.js';

/** A compiled pattern with the options it was compiled for. */
export interface Compiled {
  readonly re: Pcre2Regex;
  readonly options: ReOptions;
  /** Groups the captures table has: none in DFA mode ("d" returns the whole match only). */
  readonly ncap: number;
  readonly names: readonly (readonly [string, number])[];
}

export interface RegexSettings {
  /** lua_regex_match_limit: steps per start position; 0 = PCRE's default (10,000,000). */
  readonly matchLimit: number;
  /** lua_regex_cache_max_entries: patterns kept for "o" (0: none). */
  readonly cacheMaxEntries: number;
}

/** phasekit's default match limit: PCRE's 10,000,000 steps take about a second in WebAssembly. */
export const DEFAULT_MATCH_LIMIT = 1_000_000;
/** OpenResty's default for lua_regex_cache_max_entries. */
export const DEFAULT_CACHE_MAX_ENTRIES = 1024;
/** A whole search may take the match limit plus this many steps per subject byte. */
export const STEPS_PER_BYTE = 16;
/** Backtracking memory of one search (PCRE2's heap limit), KiB. */
export const HEAP_LIMIT_KIB = 8 * 1024;
/** How many patterns without "o" stay compiled (least recently used first out). */
const RECENT_ENTRIES = 16;

export class Regexes {
  readonly engine = new Pcre2();
  readonly #once: PatternCache<Compiled>;
  readonly #recent: PatternCache<Compiled>;
  readonly #options = new Map<string, ReOptions>();
  #matchLimit = 0;
  #onceUsed = false;

  constructor(settings: RegexSettings) {
    const free = (c: Compiled) => this.engine.free(c.re);
    this.#once = new PatternCache(settings.cacheMaxEntries, free);
    this.#recent = new PatternCache(RECENT_ENTRIES, free);
    this.setMatchLimit(settings.matchLimit);
  }

  /** The match limit in force (0 means PCRE's default, 10,000,000). */
  get matchLimit(): number {
    return this.#matchLimit;
  }

  setMatchLimit(n: number): void {
    this.#matchLimit = n;
    this.engine.setLimits({ matchLimit: n, heapLimitKib: HEAP_LIMIT_KIB, stepsPerByte: STEPS_PER_BYTE });
  }

  #parse(opts: string): ReOptions {
    let o = this.#options.get(opts);
    if (o === undefined) {
      o = parseOptions(opts);
      if (this.#options.size < 256) this.#options.set(opts, o);
    }
    return o;
  }

  /**
   * The compiled pattern, or the error message's bytes. What it returns stays valid until the next
   * call (a later compile may evict it): use it within one call into JS.
   */
  get(regex: Uint8Array, opts: string): Compiled | Uint8Array {
    const key = `${opts}\u0000${Buffer.from(regex.buffer, regex.byteOffset, regex.length).toString('latin1')}`;
    const options = this.#parse(opts);
    const hit = options.once ? this.#once.get(key) ?? this.#recent.get(key) : this.#recent.get(key);
    if (hit !== undefined) return hit;
    const r = this.engine.compile(regex, options.compile);
    if ('code' in r) {
      const [code, offset] = pcre8Position(r.code, regex, r.offset);
      return compileErrorMessage(compileErrorText(code, (n) => this.engine.errorMessage(n)), regex, offset);
    }
    const c: Compiled = { re: r, options, ncap: options.dfa ? 0 : r.captures, names: r.names };
    if (options.once && this.#once.set(key, c)) this.#onceUsed = true;
    else this.#recent.set(key, c);
    return c;
  }

  /** Whether an "o" pattern was ever cached (lua-resty-core refuses jit_stack_size after that). */
  get onceUsed(): boolean {
    return this.#onceUsed;
  }

  /** Live compiled patterns in both caches (tests). */
  get cached(): number {
    return this.#once.size + this.#recent.size;
  }
}
