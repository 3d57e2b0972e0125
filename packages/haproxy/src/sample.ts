// Sample expressions `%[fetch(args),conv(args),...]` and `name(args)` calls: parsed and resolved once, at config time.

import { ApiDisabledError, BadArgumentError } from '@phasekit/core';
import type { Ngx } from '@phasekit/core';
import type { ConverterEntry, FetchEntry, HaproxyRegistry } from './registry.js';
import type { SampleResult, Txn } from './types.js';
import { BrandedError } from '@phasekit/core';

/** A parse or resolve failure; the engine reports it as a config error at the value's path. */
export class SampleError extends BrandedError {
  constructor(message: string) {
    super(message);
    this.name = 'SampleError';
  }
}

export interface SampleCall {
  readonly name: string;
  readonly args: readonly string[];
}

interface SampleExpr {
  readonly source: string;
  readonly calls: readonly SampleCall[];
}

type Part = string | { readonly ref: string } | SampleExpr;

const NAME_CHAR = /[A-Za-z0-9_.+-]/;

/** Reads `name` or `name(arg, 'quoted, arg', ...)` at `pos`; `stop` lists the characters that end it. */
function readCall(text: string, pos: number, stop: string): { call: SampleCall; end: number } {
  let i = pos;
  while (i < text.length && (text[i] === ' ' || text[i] === '\t')) i++;
  const start = i;
  while (i < text.length && NAME_CHAR.test(text[i] as string)) i++;
  if (i === start) throw new SampleError(text[i] === undefined ? 'a name is missing at the end' : `a name is expected at "${text.slice(i, i + 10)}"`);
  const name = text.slice(start, i);
  const args: string[] = [];
  if (text[i] === '(') {
    i++;
    let arg = '';
    let quote: string | undefined;
    for (;;) {
      const ch = text[i];
      if (ch === undefined) throw new SampleError(`"${name}(" is not closed`);
      i++;
      if (quote !== undefined) {
        if (ch === quote) quote = undefined;
        else if (ch === '\\' && i < text.length) arg += text[i++];
        else arg += ch;
      } else if (ch === '\\' && i < text.length) arg += text[i++];
      else if (ch === "'" || ch === '"') quote = ch;
      else if (ch === ',') {
        args.push(arg.trim());
        arg = '';
      } else if (ch === ')') {
        if (arg.trim() !== '' || args.length > 0) args.push(arg.trim());
        break;
      } else arg += ch;
    }
  }
  while (i < text.length && (text[i] === ' ' || text[i] === '\t')) i++;
  if (i < text.length && !stop.includes(text[i] as string)) throw new SampleError(`unexpected "${text[i]}" after "${text.slice(pos, i).trim()}"`);
  return { call: { name, args }, end: i };
}

/** `lua.tag(x,y)` → `{ name: "lua.tag", args: ["x", "y"] }` (an action reference in `actions`). */
export function parseCall(text: string): SampleCall {
  const { call, end } = readCall(text, 0, '');
  if (end !== text.length) throw new SampleError(`unexpected "${text.slice(end)}"`);
  return call;
}

/** Whether a config string holds a sample expression (and so needs compileTemplate). */
export function hasSample(text: string): boolean {
  return text.includes('%[');
}

/** Literal text, `$var` / `${var}` references and `%[...]` expressions. */
function parseTemplate(text: string): Part[] {
  const parts: Part[] = [];
  let literal = '';
  let i = 0;
  while (i < text.length) {
    if (text.startsWith('%[', i)) {
      if (literal !== '') parts.push(literal);
      literal = '';
      const calls: SampleCall[] = [];
      let pos = i + 2;
      for (;;) {
        const { call, end } = readCall(text, pos, ',]');
        calls.push(call);
        if (text[end] === ']') {
          parts.push({ source: text.slice(i, end + 1), calls });
          i = end + 1;
          break;
        }
        if (text[end] !== ',') throw new SampleError(`"${text.slice(i)}" is not closed by "]"`);
        pos = end + 1;
      }
      continue;
    }
    const ref = /^\$(?:\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+))/.exec(text.slice(i));
    if (ref !== null) {
      if (literal !== '') parts.push(literal);
      literal = '';
      parts.push({ ref: (ref[1] ?? ref[2]) as string });
      i += ref[0].length;
      continue;
    }
    literal += text[i];
    i++;
  }
  if (literal !== '' || parts.length === 0) parts.push(literal);
  return parts;
}

function arity(min: number, max: number): string {
  if (min === max) return min === 1 ? '1 argument' : `${min} arguments`;
  return `${min} to ${max} arguments`;
}

/** Throws unless `n` arguments suit `entry` (built-ins know theirs; registered ones take 0..9). */
export function checkArity(kind: 'sample fetch' | 'converter', entry: FetchEntry | ConverterEntry, n: number): void {
  if (n < entry.minArgs || n > entry.maxArgs) {
    throw new BadArgumentError(`${kind} "${entry.name}" takes ${arity(entry.minArgs, entry.maxArgs)}, got ${n}`);
  }
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

/** A fetch's or converter's result as a sample: a string, or undefined for "none". */
export function sampleValue(result: SampleResult | unknown, kind: string, name: string): string | undefined {
  if (typeof result === 'string') return result;
  if (result === undefined || result === null) return undefined;
  if (typeof result === 'number' || typeof result === 'boolean') return String(result);
  if (result instanceof Uint8Array) return Buffer.from(result.buffer, result.byteOffset, result.byteLength).toString();
  if (isThenable(result)) throw new ApiDisabledError(name, `${kind} "${name}" returned a promise: sample fetches and converters may not wait`);
  return String(result);
}

export function runFetch(entry: FetchEntry, txn: Txn, args: readonly string[]): string | undefined {
  return sampleValue(entry.fn(txn, ...args), 'sample fetch', entry.name);
}

export function runConverter(entry: ConverterEntry, value: string, args: readonly string[]): string | undefined {
  return sampleValue(entry.fn(value, ...args), 'converter', entry.name);
}

/** What a compiled template produces for a request; undefined when it is one expression that had no sample. */
export type CompiledTemplate = (txn: Txn) => string | undefined;

interface ResolvedExpr {
  readonly fetch: FetchEntry;
  readonly fetchArgs: readonly string[];
  readonly convs: readonly { readonly entry: ConverterEntry; readonly args: readonly string[] }[];
}

function resolve(expr: SampleExpr, registry: HaproxyRegistry): ResolvedExpr {
  const [first, ...rest] = expr.calls as [SampleCall, ...SampleCall[]];
  const fetch = registry.fetch(first.name);
  if (fetch === undefined) throw new SampleError(`unknown sample fetch "${first.name}" in "${expr.source}"`);
  try {
    checkArity('sample fetch', fetch, first.args.length);
  } catch (err) {
    throw new SampleError((err as Error).message);
  }
  const convs = rest.map((call) => {
    const entry = registry.converter(call.name);
    if (entry === undefined) throw new SampleError(`unknown converter "${call.name}" in "${expr.source}"`);
    try {
      checkArity('converter', entry, call.args.length);
    } catch (err) {
      throw new SampleError((err as Error).message);
    }
    return { entry, args: call.args };
  });
  return { fetch, fetchArgs: first.args, convs };
}

function evaluate(e: ResolvedExpr, txn: Txn): string | undefined {
  let value = runFetch(e.fetch, txn, e.fetchArgs);
  for (const c of e.convs) {
    if (value === undefined) return undefined;
    value = runConverter(c.entry, value, c.args);
  }
  return value;
}

const readRef = (ngx: Ngx, name: string) => {
  const v = ngx.var[name];
  return v === undefined || v === null ? '' : String(v);
};

/**
 * Compiles a config string with `%[...]` expressions (and `$var` references) against the
 * names registered now; throws SampleError naming the unknown fetch or converter.
 */
export function compileTemplate(text: string, registry: HaproxyRegistry): CompiledTemplate {
  const parts = parseTemplate(text).map((p): string | { ref: string } | ResolvedExpr => (typeof p === 'string' || 'ref' in p ? p : resolve(p, registry)));
  const only = parts.length === 1 ? parts[0] : undefined;
  if (only !== undefined && typeof only !== 'string' && !('ref' in only)) return (txn) => evaluate(only, txn);
  return (txn) => {
    let out = '';
    for (const p of parts) {
      if (typeof p === 'string') out += p;
      else if ('ref' in p) out += readRef(txn.ngx, p.ref);
      else out += evaluate(p, txn) ?? '';
    }
    return out;
  };
}
