// sub/gsub with a string replacement, done in JS: the template ($0, $N, ${N}, $$) and the loop.
//
//   js_gsub(subj, regex, opts, template, global, pos, cp) → piece, count, next, cp
// `piece` is the output for subj[cp..] up to where this call stopped; `next` is -1 when the
// work is done (the piece then ends with the rest of the subject), else the call ran for
// SLICE_MS and the Lua side calls again from `next` and `cp` (so that its CPU limit gets a say).
// nil: no match at all; false, message: a compile, template or match error.

import type { LuaCall, LuaFunction } from '../../vm/index.js';
import type { Compiled, Regexes } from './compiled.js';
import { pushCompileError, pushExecError } from './exec.js';

/** A replacement template: literal byte runs and capture numbers. */
export type Template = (Uint8Array | number)[];

const DOLLAR = 0x24;
const OPEN = 0x7b;
const CLOSE = 0x7d;
const isDigit = (b: number | undefined): b is number => b !== undefined && b >= 0x30 && b <= 0x39;

/** Reads the digits from `k`: [number, index after them], or undefined when there are none. */
function digitsAt(t: Uint8Array, k: number): [number, number] | undefined {
  let j = k;
  let n = 0;
  while (isDigit(t[j])) n = n * 10 + ((t[j++] as number) - 0x30);
  return j === k ? undefined : [n, j];
}

/** lua-nginx-module's template syntax: `$N`, `${N}`, `$$`; anything else after `$` is an error (null). */
export function parseTemplate(t: Uint8Array): Template | null {
  const parts: Template = [];
  let lit = 0;
  let k = 0;
  const flush = (end: number) => {
    if (end > lit) parts.push(t.slice(lit, end));
  };
  while (k < t.length) {
    if (t[k] !== DOLLAR) {
      k++;
      continue;
    }
    flush(k);
    if (t[k + 1] === DOLLAR) {
      parts.push(t.slice(k, k + 1));
      lit = k += 2;
      continue;
    }
    const braced = t[k + 1] === OPEN;
    const d = digitsAt(t, k + (braced ? 2 : 1));
    if (d === undefined || (braced && t[d[1]] !== CLOSE)) return null;
    parts.push(d[0]);
    lit = k = braced ? d[1] + 1 : d[1];
  }
  flush(t.length);
  return parts;
}

/** How long one call may run before handing back to Lua. */
export const SLICE_MS = 20;
const BATCH = 256;

interface Progress {
  pieces: Uint8Array[];
  count: number;
  pos: number;
  cp: number;
  done: boolean;
}

/** Adds the batch's replacements to `p`; returns a match error, or 0. */
function applyBatch(regexes: Regexes, c: Compiled, subj: Uint8Array, template: Template, global: boolean, p: Progress): number {
  const b = regexes.engine.execAll(c.re, p.pos, c.options.match, c.options.dfa, global ? BATCH : 1);
  if (b.status < 0) return b.status;
  const stride = 1 + 2 * (c.re.captures + 1);
  const r = b.results;
  for (let m = 0; m < b.count; m++) {
    const at = m * stride;
    const rc = r[at] as number;
    p.pieces.push(subj.subarray(p.cp, r[at + 1]));
    for (const part of template) {
      if (typeof part !== 'number') p.pieces.push(part);
      else if (part < rc && part <= c.ncap && (r[at + 1 + 2 * part] as number) >= 0) {
        p.pieces.push(subj.subarray(r[at + 1 + 2 * part], r[at + 2 + 2 * part]));
      }
    }
    p.cp = r[at + 2] as number;
  }
  p.count += b.count;
  p.pos = b.next;
  p.done = b.status === 1 || !global;
  return 0;
}

export function createGsub(regexes: Regexes, sliceMs = SLICE_MS): LuaFunction {
  return (call: LuaCall) => {
    const opts = call.string(3) ?? '';
    const global = call.boolean(5);
    const p: Progress = { pieces: [], count: 0, pos: Math.trunc(call.number(6) ?? 0), cp: Math.trunc(call.number(7) ?? 0), done: false };
    const c = regexes.get(call.bytesView(2) ?? new Uint8Array(), opts);
    if (c instanceof Uint8Array) return pushCompileError(call, c);
    const template = parseTemplate(call.bytesView(4) ?? new Uint8Array());
    if (template === null) return pushCompileError(call, Buffer.from('failed to compile the replacement template'));
    const subj = call.bytesView(1) ?? new Uint8Array();
    regexes.engine.setSubject(subj);
    const started = performance.now();
    const first = p.pos === 0 && p.cp === 0;
    do {
      const rc = applyBatch(regexes, c, subj, template, global, p);
      if (rc < 0) return pushExecError(call, rc);
    } while (!p.done && performance.now() - started < sliceMs);
    if (first && p.done && p.count === 0) {
      call.pushNil();
      return 1;
    }
    if (p.done) p.pieces.push(subj.subarray(p.cp));
    const out = Buffer.concat(p.pieces); // copies out of the subject's view before Lua allocates
    call.pushBytes(out);
    call.pushInteger(p.count);
    call.pushInteger(p.done ? -1 : p.pos);
    call.pushInteger(p.cp);
    return 4;
  };
}
