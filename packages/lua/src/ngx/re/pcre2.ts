// The PCRE2 engine: native/pcre2/pcre2.wasm (PCRE2 10.42, 8-bit, with phasekit's whole-search
// budget; see native/pcre2/README.md), one instance per installation. Compile, run, free; byte
// offsets in, byte offsets out. Policy (options, caches, error texts) lives elsewhere.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The PCRE2 release the committed pcre2.wasm is built from. */
export const PCRE2_VERSION = '10.42 2022-12-11';

/** The .wasm beside the package's sources and builds (src/ngx/re/ and dist/ngx/re/ are both 3 levels down). */
export const PCRE2_WASM_PATH = fileURLToPath(new URL('../../../native/pcre2/pcre2.wasm', import.meta.url));

/** The slice of the WebAssembly global used here (the TS lib in use has no WebAssembly types). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

interface Exports {
  readonly memory: { readonly buffer: ArrayBuffer };
  _initialize(): void;
  pk_init(): number;
  pk_malloc(size: number): number;
  pk_free(ptr: number): void;
  pk_version(buf: number): number;
  pk_set_limits(match: number, heapKib: number, perByte: number): void;
  pk_compile(pattern: number, length: number, options: number): number;
  pk_compile_error(): number;
  pk_compile_offset(): number;
  pk_error_message(code: number, buf: number, size: number): number;
  pk_regex_free(re: number): void;
  pk_info(re: number, what: number): number;
  pk_ovector(): number;
  pk_exec(re: number, subject: number, length: number, start: number, options: number, dfa: number): number;
  pk_exec_all(re: number, subject: number, length: number, start: number, options: number, dfa: number, out: number, max: number): number;
  pk_batch_status(): number;
  pk_search_spent(): number;
  pk_search_budget(): number;
  pk_batch_next(): number;
}

let wasmModule: object | undefined;

/** The compiled module, shared by every instance in the process. */
function pcre2Module(): object {
  wasmModule ??= new wasm.Module(readFileSync(PCRE2_WASM_PATH));
  return wasmModule;
}

/** A compiled pattern in one engine's memory. Valid until freed; never keep one across calls into Lua. */
export interface Pcre2Regex {
  readonly ptr: number;
  /** Number of capture groups. */
  readonly captures: number;
  /** Named groups: [name, group number], in PCRE2's name-table order (sorted by name). */
  readonly names: readonly (readonly [string, number])[];
}

export interface CompileFailure {
  /** PCRE2's error code (101... for syntax errors; negative for bad UTF-8 in the pattern). */
  readonly code: number;
  /** Byte offset in the pattern. */
  readonly offset: number;
}

export interface Pcre2Limits {
  /** Steps per start position, as PCRE's match limit (0: PCRE's default, 10,000,000). */
  readonly matchLimit: number;
  /** Backtracking memory per search, KiB. */
  readonly heapLimitKib: number;
  /** A whole search may take the match limit plus this many steps per subject byte (0: no bound). */
  readonly stepsPerByte: number;
}

/** The result of execAll: `count` matches in `results` (rc then 2 offsets per group, each), then how it ended. */
export interface Batch {
  readonly count: number;
  /** 1: no match left; 0: more may follow from `next`; < 0: a PCRE2 error after the `count` matches. */
  readonly status: number;
  readonly next: number;
  readonly results: Int32Array;
}

const PCRE2_ERROR_NOMATCH = -1;

export class Pcre2 {
  readonly #x: Exports;
  #heap: Uint8Array;
  #subject = 0;
  #subjectCap = 0;
  #subjectLen = 0;
  #out = 0;
  #outCap = 0;
  #compiled = 0;

  constructor() {
    const instance = new wasm.Instance(pcre2Module(), {});
    this.#x = instance.exports as unknown as Exports;
    this.#x._initialize();
    if (this.#x.pk_init() !== 1) throw new Error('pcre2.wasm: no memory for the match context');
    this.#heap = new Uint8Array(this.#x.memory.buffer);
  }

  #bytes(): Uint8Array {
    if (this.#heap.buffer !== this.#x.memory.buffer) this.#heap = new Uint8Array(this.#x.memory.buffer);
    return this.#heap;
  }

  #int32(ptr: number, length: number): Int32Array {
    return new Int32Array(this.#x.memory.buffer, ptr, length);
  }

  /** PCRE2's version string, as pcre2_config reports it. */
  version(): string {
    const buf = this.#x.pk_malloc(64);
    const n = this.#x.pk_version(buf);
    const s = Buffer.from(this.#bytes().subarray(buf, buf + n)).toString('latin1');
    this.#x.pk_free(buf);
    return s;
  }

  setLimits(limits: Pcre2Limits): void {
    this.#x.pk_set_limits(limits.matchLimit >>> 0, limits.heapLimitKib >>> 0, limits.stepsPerByte >>> 0);
  }

  compile(pattern: Uint8Array, options: number): Pcre2Regex | CompileFailure {
    const x = this.#x;
    const p = x.pk_malloc(pattern.length + 1);
    this.#bytes().set(pattern, p);
    const ptr = x.pk_compile(p, pattern.length, options >>> 0);
    x.pk_free(p);
    if (ptr === 0) return { code: x.pk_compile_error(), offset: x.pk_compile_offset() };
    this.#compiled++;
    return { ptr, captures: x.pk_info(ptr, 0), names: this.#names(ptr) };
  }

  /** Name table entries: 2 bytes of group number (big-endian), the name, NUL padding. */
  #names(ptr: number): [string, number][] {
    const count = this.#x.pk_info(ptr, 1);
    if (count === 0) return [];
    const size = this.#x.pk_info(ptr, 2);
    const table = this.#x.pk_info(ptr, 3);
    const heap = this.#bytes();
    const names: [string, number][] = [];
    for (let k = 0; k < count; k++) {
      const at = table + k * size;
      let end = at + 2;
      while (end < at + size && heap[end] !== 0) end++;
      names.push([Buffer.from(heap.subarray(at + 2, end)).toString('latin1'), ((heap[at] as number) << 8) | (heap[at + 1] as number)]);
    }
    return names;
  }

  free(re: Pcre2Regex): void {
    this.#x.pk_regex_free(re.ptr);
    this.#compiled--;
  }

  /** PCRE2's own message for an error code. */
  errorMessage(code: number): string {
    const buf = this.#x.pk_malloc(256);
    const n = this.#x.pk_error_message(code, buf, 256);
    const s = n > 0 ? Buffer.from(this.#bytes().subarray(buf, buf + n)).toString('latin1') : `error ${code}`;
    this.#x.pk_free(buf);
    return s;
  }

  /** Copies the subject into the engine (kept until the next call); exec and execAll run on it. */
  setSubject(bytes: Uint8Array): void {
    if (bytes.length + 1 > this.#subjectCap) {
      if (this.#subject !== 0) this.#x.pk_free(this.#subject);
      this.#subjectCap = Math.max(bytes.length + 1, this.#subjectCap * 2, 256);
      this.#subject = this.#x.pk_malloc(this.#subjectCap);
      if (this.#subject === 0) {
        this.#subjectCap = 0;
        throw new RangeError('pcre2.wasm: no memory for the subject');
      }
    }
    this.#bytes().set(bytes, this.#subject);
    this.#subjectLen = bytes.length;
  }

  /** Lets go of a large subject buffer (the next setSubject allocates again). */
  releaseSubject(): void {
    if (this.#subject !== 0) this.#x.pk_free(this.#subject);
    this.#subject = 0;
    this.#subjectCap = 0;
    this.#subjectLen = 0;
  }

  get subjectLength(): number {
    return this.#subjectLen;
  }

  /** One search from byte `start`: PCRE2's rc (> 0: groups set; -1: no match; other negatives: errors). */
  exec(re: Pcre2Regex, start: number, options: number, dfa: boolean): number {
    return this.#x.pk_exec(re.ptr, this.#subject, this.#subjectLen, start, options >>> 0, dfa ? 1 : 0);
  }

  /** The ovector after a successful exec: from0, to0, from1, to1, ... (-1 unset). */
  offsets(re: Pcre2Regex): Int32Array {
    return this.#int32(this.#x.pk_ovector(), 2 * (re.captures + 1));
  }

  /** Up to `max` successive matches from `start` (after an empty match the next search starts a byte further). */
  execAll(re: Pcre2Regex, start: number, options: number, dfa: boolean, max: number): Batch {
    const x = this.#x;
    const stride = 1 + 2 * (re.captures + 1);
    const need = stride * max * 4;
    if (need > this.#outCap) {
      if (this.#out !== 0) x.pk_free(this.#out);
      this.#outCap = Math.max(need, 4096);
      this.#out = x.pk_malloc(this.#outCap);
      if (this.#out === 0) {
        this.#outCap = 0;
        throw new RangeError('pcre2.wasm: no memory for match results');
      }
    }
    const count = x.pk_exec_all(re.ptr, this.#subject, this.#subjectLen, start, options >>> 0, dfa ? 1 : 0, this.#out, max);
    return { count, status: x.pk_batch_status(), next: x.pk_batch_next(), results: this.#int32(this.#out, count * stride) };
  }

  /** What the last search cost and was allowed, in 1/32 steps (see native/pcre2/phasekit_budget.h). */
  lastSearchCost(): { spent: number; budget: number } {
    return { spent: this.#x.pk_search_spent(), budget: this.#x.pk_search_budget() };
  }

  /** Memory figures for tests: the wasm memory size and the number of live compiled patterns. */
  stats(): { memoryBytes: number; compiled: number } {
    return { memoryBytes: this.#x.memory.buffer.byteLength, compiled: this.#compiled };
  }
}

export { PCRE2_ERROR_NOMATCH };
