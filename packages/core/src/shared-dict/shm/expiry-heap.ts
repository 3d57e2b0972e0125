// The expiry heap of a shared dict's region: a binary min-heap of entry refs on their expiry
// time (Int32 refs at `at`, its length in the header), each entry knowing its index (E_HEAPI).

import { E_HEAPI, EW_EXPIRES, H_HEAP_LEN, SENTINEL, E_NEXT } from './layout.js';

export class ExpiryHeap {
  readonly #i32: Int32Array;
  readonly #f64: Float64Array;
  readonly #at: number;

  constructor(i32: Int32Array, f64: Float64Array, at: number) {
    this.#i32 = i32;
    this.#f64 = f64;
    this.#at = at;
  }

  /** Sets an entry's expiry (0: never), keeping the heap in order. */
  setExpires(ref: number, expires: number): void {
    const i32 = this.#i32;
    const p = ref << 1;
    if (expires === 0) {
      if ((i32[p + E_HEAPI] as number) !== -1) this.delete(ref);
      this.#f64[ref + EW_EXPIRES] = 0;
      return;
    }
    const old = this.#f64[ref + EW_EXPIRES] as number;
    this.#f64[ref + EW_EXPIRES] = expires;
    const i = i32[p + E_HEAPI] as number;
    if (i === -1) {
      const n = i32[H_HEAP_LEN] as number;
      i32[H_HEAP_LEN] = n + 1;
      this.#siftUp(n, ref);
    } else if (expires < old) {
      this.#siftUp(i, ref);
    } else {
      this.#siftDown(i, ref);
    }
  }

  get length(): number {
    return this.#i32[H_HEAP_LEN] as number;
  }

  top(): number {
    return this.#i32[this.#at] as number;
  }

  /** Puts every entry in the heap (in LRU order, all expiring at `expires`, so the order is a heap). */
  expireAll(expires: number): void {
    const i32 = this.#i32;
    const f64 = this.#f64;
    let n = 0;
    for (let ref = i32[(SENTINEL << 1) + E_NEXT] as number; ref !== SENTINEL; ref = i32[(ref << 1) + E_NEXT] as number) {
      f64[ref + EW_EXPIRES] = expires;
      i32[(ref << 1) + E_HEAPI] = n;
      i32[this.#at + n] = ref;
      n++;
    }
    i32[H_HEAP_LEN] = n;
  }

  delete(ref: number): void {
    const i32 = this.#i32;
    const p = ref << 1;
    const i = i32[p + E_HEAPI] as number;
    const n = (i32[H_HEAP_LEN] as number) - 1;
    i32[H_HEAP_LEN] = n;
    const last = i32[this.#at + n] as number;
    i32[p + E_HEAPI] = -1;
    if (last === ref) return;
    this.#siftUp(i, last);
    this.#siftDown(i32[(last << 1) + E_HEAPI] as number, last);
  }

  #siftUp(i: number, ref: number): void {
    const i32 = this.#i32;
    const f64 = this.#f64;
    const at = this.#at;
    const t = f64[ref + EW_EXPIRES] as number;
    while (i > 0) {
      const pi = (i - 1) >> 1;
      const parent = i32[at + pi] as number;
      if ((f64[parent + EW_EXPIRES] as number) <= t) break;
      i32[at + i] = parent;
      i32[(parent << 1) + E_HEAPI] = i;
      i = pi;
    }
    i32[at + i] = ref;
    i32[(ref << 1) + E_HEAPI] = i;
  }

  #siftDown(i: number, ref: number): void {
    const i32 = this.#i32;
    const f64 = this.#f64;
    const at = this.#at;
    const n = i32[H_HEAP_LEN] as number;
    const t = f64[ref + EW_EXPIRES] as number;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      let child = i32[at + c] as number;
      if (c + 1 < n) {
        const right = i32[at + c + 1] as number;
        if ((f64[right + EW_EXPIRES] as number) < (f64[child + EW_EXPIRES] as number)) {
          c++;
          child = right;
        }
      }
      if ((f64[child + EW_EXPIRES] as number) >= t) break;
      i32[at + i] = child;
      i32[(child << 1) + E_HEAPI] = i;
      i = c;
    }
    i32[at + i] = ref;
    i32[(ref << 1) + E_HEAPI] = i;
  }
}
