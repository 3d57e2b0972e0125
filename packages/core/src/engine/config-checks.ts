// Config checks zod cannot express on one key: names that would reach a prototype, duplicate
// locations and shared dict sizes, worded as nginx words them where nginx has words.

import type { ConfigIssue } from '../errors.js';
import { parseMatch } from '../http/location.js';
import { parseSize } from '../shared-dict/size.js';

/** lua-nginx-module refuses a lua_shared_dict of 8191 bytes or less ("invalid lua shared dict size"). */
export const MIN_DICT_BYTES = 8192;
/** A dict's memory is allocated whole when the engine starts: past this, the config is refused. */
export const MAX_DICT_BYTES = 4 * 1024 ** 3;

/**
 * Own `__proto__` keys anywhere in the input (JSON.parse makes them): a name that cannot be
 * kept as a key of a plain object is refused instead of silently dropped.
 */
export function reservedKeyIssues(input: unknown): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const seen = new Set<object>();
  const walk = (v: unknown, path: string): void => {
    if (typeof v !== 'object' || v === null || seen.has(v)) return;
    seen.add(v);
    if (Array.isArray(v)) {
      v.forEach((item, i) => walk(item, `${path}[${i}]`));
      return;
    }
    if (Object.getPrototypeOf(v) !== Object.prototype && Object.getPrototypeOf(v) !== null) return;
    for (const key of Object.keys(v)) {
      const at = path === '' ? key : `${path}.${key}`;
      if (key === '__proto__') issues.push({ path: at, message: '"__proto__" cannot be a name (it is not kept as a key)' });
      else walk((v as Record<string, unknown>)[key], at);
    }
  };
  walk(input, '');
  return issues;
}

interface CheckedConfig {
  sharedDicts?: Readonly<Record<string, string | number | { size: string | number; store?: string }>> | undefined;
  locations: readonly { match: string }[];
}

/** nginx's `duplicate location "/x"` (exact with exact, prefix with prefix or ^~) and lua_shared_dict's size limits. */
export function crossIssues(config: CheckedConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const seen = new Set<string>();
  config.locations.forEach((loc, i) => {
    const parsed = parseMatch(loc.match);
    if (typeof parsed === 'string' || (parsed.kind !== 'exact' && parsed.kind !== 'prefix' && parsed.kind !== 'prefixStop')) return;
    const key = `${parsed.kind === 'exact' ? '=' : '/'}${parsed.value}`;
    if (seen.has(key)) issues.push({ path: `locations[${i}].match`, message: `duplicate location "${parsed.value}"` });
    seen.add(key);
  });
  for (const [name, spec] of Object.entries(config.sharedDicts ?? {})) {
    const size = typeof spec === 'object' ? spec.size : spec;
    const path = typeof spec === 'object' ? `sharedDicts.${name}.size` : `sharedDicts.${name}`;
    let bytes: number;
    try {
      bytes = parseSize(size);
    } catch {
      continue; // the schema said what is wrong with it
    }
    if (bytes < MIN_DICT_BYTES) issues.push({ path, message: `invalid lua shared dict size "${String(size)}": the smallest is 8k (${MIN_DICT_BYTES} bytes)` });
    else if (bytes > MAX_DICT_BYTES && (typeof spec !== 'object' || spec.store === undefined)) {
      issues.push({ path, message: `invalid lua shared dict size "${String(size)}": the largest is 4g (a dict's memory is allocated whole at start)` });
    }
  }
  return issues;
}
