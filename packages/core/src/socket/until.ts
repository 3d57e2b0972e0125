// receiveuntil's matcher: scans the received bytes for a boundary, as lua-nginx-module's compiled
// pattern does. Bytes that may be the start of the boundary are held back until they are not; on a
// timeout they stay held for the next call, at the end of the stream they are dropped.

import type { ByteReader } from './reader.js';

const EMPTY = Buffer.alloc(0);

/** What one scan found: the boundary, or that it needs more bytes (out holds what may be returned). */
export type ScanResult = 'match' | 'more' | 'full';

export class UntilMatcher {
  readonly pattern: Buffer;
  readonly inclusive: boolean;
  /** KMP failure function: fail[i] = length of the longest proper border of pattern[0..i]. */
  readonly #fail: Int32Array;
  /** Pattern bytes currently matched (held back). */
  #held = 0;
  /** Bytes accepted for the current call's result. */
  #out: Buffer[] = [];
  #outSize = 0;
  /** In size mode the boundary was reached: the next call answers nil once. */
  finished = false;

  constructor(pattern: Buffer, inclusive: boolean) {
    this.pattern = pattern;
    this.inclusive = inclusive;
    const m = pattern.length;
    const fail = new Int32Array(m);
    for (let i = 1, k = 0; i < m; i++) {
      while (k > 0 && pattern[i] !== pattern[k]) k = fail[k - 1] as number;
      if (pattern[i] === pattern[k]) k++;
      fail[i] = k;
    }
    this.#fail = fail;
  }

  /**
   * Consumes bytes from `reader` until the boundary is found ('match'), the reader is empty
   * ('more') or `max` result bytes are ready ('full').
   */
  scan(reader: ByteReader, max: number): ScanResult {
    const p = this.pattern;
    const m = p.length;
    const first = p[0] as number;
    while (reader.size > 0) {
      if (this.#outSize >= max) return 'full';
      if (this.#held === 0) {
        // Fast path: everything before the next possible boundary start is result.
        const head = reader.head();
        const room = max - this.#outSize;
        let at = head.indexOf(first);
        if (at === -1) at = head.length;
        if (at > 0) {
          this.#emit(reader.take(Math.min(at, room)));
          continue;
        }
      }
      const c = reader.take(1)[0] as number;
      let j = this.#held;
      while (j > 0 && p[j] !== c) {
        const k = this.#fail[j - 1] as number;
        this.#emit(p.subarray(0, j - k));
        j = k;
      }
      if (p[j] === c) j++;
      else this.#emit(Buffer.of(c));
      if (j === m) {
        this.#held = 0;
        if (this.inclusive) this.#emit(p);
        return 'match';
      }
      this.#held = j;
    }
    return this.#outSize >= max ? 'full' : 'more';
  }

  #emit(b: Buffer): void {
    if (b.length === 0) return;
    this.#out.push(b);
    this.#outSize += b.length;
  }

  /** The result bytes gathered so far (they are handed out: the next call starts empty). */
  takeOut(): Buffer {
    const out = this.#out.length === 1 ? (this.#out[0] as Buffer) : this.#out.length === 0 ? EMPTY : Buffer.concat(this.#out, this.#outSize);
    this.#out = [];
    this.#outSize = 0;
    return out;
  }

  /** Size-mode results longer than `max`: hand out `max` bytes, keep the rest for the next call. */
  takeUpTo(max: number): Buffer {
    const all = this.takeOut();
    if (all.length <= max) return all;
    this.#out = [all.subarray(max)];
    this.#outSize = all.length - max;
    return all.subarray(0, max);
  }

  /** The stream ended: bytes held as a possible boundary start are dropped (as nginx does). */
  dropHeld(): void {
    this.#held = 0;
  }
}
