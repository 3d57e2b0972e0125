// Kong-style schemas for Lua plugins: `fields = { { config = { type = "record", fields = {...} } } }`
// with types string/number/integer/boolean/array/set/map/record and required, default, one_of,
// between, gt, match, len_min, len_max. Checks a conf and fills in defaults.

import { joinPath } from './path.js';
import type { ConfIssue, Validated } from './types.js';

/** One field's definition, as the Lua table reads once encoded to JSON. */
export interface KongField {
  type?: string;
  required?: boolean;
  default?: unknown;
  one_of?: unknown[];
  between?: [number, number];
  gt?: number;
  match?: string;
  len_min?: number;
  len_max?: number;
  /** array and set: each element's definition. */
  elements?: KongField;
  /** map: the keys' and the values' definitions. */
  keys?: KongField;
  values?: KongField;
  /** record: its fields, `{ { name = def }, ... }`. */
  fields?: Record<string, KongField>[];
}

/** Tests a Lua pattern (`string.find(value, pattern)`): Lua plugins' `match` uses Lua's own. */
export type PatternTest = (value: string, pattern: string) => boolean;

const TYPES = new Set(['string', 'number', 'integer', 'boolean', 'array', 'set', 'map', 'record']);

/** The `config` field of a plugin schema table (`{ fields = { { config = {...} } } }`), or undefined. */
export function configField(schema: unknown): KongField | undefined {
  const fields = (schema as { fields?: unknown } | null)?.fields;
  if (!Array.isArray(fields)) return undefined;
  for (const entry of fields) {
    if (typeof entry === 'object' && entry !== null && 'config' in entry) return (entry as { config: KongField }).config;
  }
  return undefined;
}

/** Problems with the schema itself (an unknown type, a record without fields): reported at load. */
export function checkSchema(field: KongField, path = 'config'): string[] {
  const out: string[] = [];
  if (typeof field !== 'object' || field === null) return [`${path}: a field definition must be a table`];
  if (typeof field.type !== 'string' || !TYPES.has(field.type)) out.push(`${path}: unknown type ${JSON.stringify(field.type)} (string, number, integer, boolean, array, set, map or record)`);
  if (field.type === 'record') {
    for (const entry of fieldList(field)) for (const [name, def] of Object.entries(entry)) out.push(...checkSchema(def, `${path}.${name}`));
  }
  if ((field.type === 'array' || field.type === 'set') && field.elements !== undefined) out.push(...checkSchema(field.elements, `${path}.elements`));
  if (field.type === 'map') {
    if (field.keys !== undefined) out.push(...checkSchema(field.keys, `${path}.keys`));
    if (field.values !== undefined) out.push(...checkSchema(field.values, `${path}.values`));
  }
  if (field.between !== undefined && (!Array.isArray(field.between) || field.between.length !== 2)) out.push(`${path}: between must be { min, max }`);
  return out;
}

function fieldList(field: KongField): Record<string, KongField>[] {
  // cjson encodes an empty Lua table as an object: no fields.
  return Array.isArray(field.fields) ? field.fields : [];
}

/** Checks `conf` against the `config` field, filling in defaults. */
export function validateKong(field: KongField | undefined, conf: unknown, test: PatternTest): Validated {
  const issues: ConfIssue[] = [];
  if (field === undefined) {
    if (conf === undefined || conf === null || (isRecord(conf) && Object.keys(conf).length === 0)) return { ok: true, value: {} };
    return { ok: false, issues: [{ path: '', message: 'this plugin takes no config' }] };
  }
  const value = check(field, conf ?? {}, '', issues, test);
  return issues.length === 0 ? { ok: true, value } : { ok: false, issues };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

function check(field: KongField, value: unknown, path: string, issues: ConfIssue[], test: PatternTest): unknown {
  if (value === undefined || value === null) {
    if (field.default !== undefined) return emptyFix(field, structuredClone(field.default));
    if (field.type === 'record' && field.required === true) value = {};
    else {
      if (field.required === true) issues.push({ path, message: 'required field missing' });
      return undefined;
    }
  }
  const before = issues.length;
  const out = checkType(field, value, path, issues, test);
  if (issues.length === before) checkConstraints(field, out, path, issues, test);
  return out;
}

/** cjson gives `{}` for an empty Lua table: an empty array default is an array. */
function emptyFix(field: KongField, v: unknown): unknown {
  if ((field.type === 'array' || field.type === 'set') && isRecord(v) && Object.keys(v).length === 0) return [];
  return v;
}

function checkType(field: KongField, value: unknown, path: string, issues: ConfIssue[], test: PatternTest): unknown {
  const bad = (what: string) => {
    issues.push({ path, message: `expected ${what}` });
    return value;
  };
  switch (field.type) {
    case 'string':
      return typeof value === 'string' ? value : bad('a string');
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? value : bad('a number');
    case 'integer':
      return Number.isInteger(value) ? value : bad('an integer');
    case 'boolean':
      return typeof value === 'boolean' ? value : bad('a boolean');
    case 'array':
    case 'set': {
      const list = isRecord(value) && Object.keys(value).length === 0 ? [] : value;
      if (!Array.isArray(list)) return bad('an array');
      const items = field.elements === undefined ? [...list] : list.map((v, i) => check(field.elements as KongField, v, joinPath(path, i), issues, test));
      if (field.type === 'set') return [...new Set(items)];
      return items;
    }
    case 'map': {
      if (!isRecord(value)) return bad('a map');
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) {
        const at = joinPath(path, k);
        if (field.keys !== undefined) checkConstraints(field.keys, k, at, issues, test);
        out[k] = field.values === undefined ? v : check(field.values, v, at, issues, test);
      }
      return out;
    }
    case 'record': {
      if (!isRecord(value)) return bad('a record');
      const out: Record<string, unknown> = {};
      const known = new Set<string>();
      for (const entry of fieldList(field)) {
        for (const [name, def] of Object.entries(entry)) {
          known.add(name);
          const v = check(def, value[name], joinPath(path, name), issues, test);
          if (v !== undefined) out[name] = v;
        }
      }
      for (const k of Object.keys(value)) if (!known.has(k)) issues.push({ path: joinPath(path, k), message: 'unknown field' });
      return out;
    }
    default:
      return value;
  }
}

function checkConstraints(field: KongField, value: unknown, path: string, issues: ConfIssue[], test: PatternTest): void {
  const add = (message: string) => issues.push({ path, message });
  if (field.one_of !== undefined && Array.isArray(field.one_of) && !field.one_of.includes(value)) {
    add(`expected one of: ${field.one_of.map((v) => JSON.stringify(v)).join(', ')}`);
  }
  if (typeof value === 'number') {
    if (field.gt !== undefined && !(value > field.gt)) add(`expected number > ${field.gt}`);
    if (Array.isArray(field.between) && (value < field.between[0] || value > field.between[1])) add(`expected a value between ${field.between[0]} and ${field.between[1]}`);
  }
  if (typeof value === 'string') {
    const min = field.len_min ?? 1;
    if (value.length < min) add(min === 1 ? 'expected a non-empty string' : `expected at least ${min} characters`);
    if (field.len_max !== undefined && value.length > field.len_max) add(`expected at most ${field.len_max} characters`);
    if (field.match !== undefined && !test(value, field.match)) add(`does not match the pattern ${JSON.stringify(field.match)}`);
  }
  if (Array.isArray(value)) {
    if (field.len_min !== undefined && value.length < field.len_min) add(`expected at least ${field.len_min} elements`);
    if (field.len_max !== undefined && value.length > field.len_max) add(`expected at most ${field.len_max} elements`);
  }
}
