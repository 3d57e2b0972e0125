// The one JS primitive the Lua wrappers call for match, find, gmatch, split and gsub with a
// function: the subject goes into the engine as bytes, offsets come back as byte offsets.
//
//   js_exec(regex, opts, subj, pos, mode[, n])
//   mode 0: compile only → true
//   mode 1 (match): rc, ncap, from0, to0, from1, to1, ..., nnames, name1, group1, ...
//   mode 2 (find):  rc, ncap, from0, to0, from_n, to_n          (n: the capture asked for)
//   mode 3 (split): rc, ncap, from0, to0, from1, to1
//   mode 4 (batch): up to n matches from pos, see pushBatch
//   no match: nil; failures: false, message

import type { LuaCall, LuaFunction } from '../../vm/index.js';
import type { Compiled, Regexes } from './compiled.js';
import { execErrorCode } from './options.js';

const EMPTY = new Uint8Array(0);

export function pushExecError(call: LuaCall, rc: number): number {
  call.pushBoolean(false);
  call.pushString(`pcre_exec() failed: ${execErrorCode(rc)}`);
  return 2;
}

export function pushCompileError(call: LuaCall, message: Uint8Array): number {
  call.pushBoolean(false);
  call.pushBytes(message);
  return 2;
}

/** ctx.pos as the Lua side computed it (0-based, never negative). */
function startOffset(call: LuaCall, i: number): number {
  const n = call.number(i) ?? 0;
  return n > 0 ? Math.trunc(n) : 0;
}

function pushNames(call: LuaCall, c: Compiled): void {
  call.pushInteger(c.names.length);
  for (const [name, n] of c.names) {
    call.pushString(name);
    call.pushInteger(n);
  }
}

/** One search; pushes the results for modes 1 to 3. */
function pushOne(call: LuaCall, regexes: Regexes, c: Compiled, start: number, mode: number): number {
  const engine = regexes.engine;
  const rc = engine.exec(c.re, start, c.options.match, c.options.dfa);
  if (rc === -1) {
    call.pushNil();
    return 1;
  }
  if (rc < 0) return pushExecError(call, rc);
  const o = engine.offsets(c.re);
  call.pushInteger(rc);
  call.pushInteger(c.ncap);
  call.pushInteger(o[0] as number);
  call.pushInteger(o[1] as number);
  if (mode === 2 || mode === 3) {
    const n = mode === 3 ? 1 : Math.max(0, Math.trunc(call.number(6) ?? 0));
    call.pushInteger(n <= c.ncap ? (o[2 * n] as number) : -1);
    call.pushInteger(n <= c.ncap ? (o[2 * n + 1] as number) : -1);
    return 6;
  }
  for (let k = 2; k < 2 * (c.ncap + 1); k++) call.pushInteger(o[k] as number);
  pushNames(call, c);
  return 2 * (c.ncap + 1) + 3 + 2 * c.names.length;
}

/**
 * Up to `max` successive matches (lua-resty-core's stepping): count, ncap, nnames, names...,
 * then per match rc and its 2 * (ncap + 1) offsets, then the next start (-1: no match left).
 * An error after some matches is left for the next call, which starts where it happened.
 */
function pushBatch(call: LuaCall, regexes: Regexes, c: Compiled, start: number, max: number): number {
  const b = regexes.engine.execAll(c.re, start, c.options.match, c.options.dfa, max);
  if (b.count === 0) {
    if (b.status < 0) return pushExecError(call, b.status);
    call.pushNil();
    return 1;
  }
  call.pushInteger(b.count);
  call.pushInteger(c.ncap);
  pushNames(call, c);
  const stride = 1 + 2 * (c.re.captures + 1);
  const pairs = 2 * (c.ncap + 1);
  for (let m = 0; m < b.count; m++) {
    const base = m * stride;
    for (let k = 0; k <= pairs; k++) call.pushInteger(b.results[base + k] as number);
  }
  call.pushInteger(b.status === 1 ? -1 : b.next);
  return 4 + 2 * c.names.length + b.count * (1 + pairs);
}

export function createExec(regexes: Regexes): LuaFunction {
  return (call) => {
    const opts = call.string(2) ?? ''; // before taking views: converting a number allocates in Lua
    const c = regexes.get(call.bytesView(1) ?? EMPTY, opts);
    if (c instanceof Uint8Array) return pushCompileError(call, c);
    const mode = call.number(5) ?? 0;
    if (mode === 0) {
      call.pushBoolean(true);
      return 1;
    }
    regexes.engine.setSubject(call.bytesView(3) ?? EMPTY);
    const start = startOffset(call, 4);
    if (mode === 4) return pushBatch(call, regexes, c, start, Math.max(1, Math.trunc(call.number(6) ?? 1)));
    return pushOne(call, regexes, c, start, mode);
  };
}
