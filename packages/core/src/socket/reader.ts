// The bytes a cosocket has received and not yet handed out: chunks from a Node stream, read by
// line, by count, all, or any; the stream is paused while too much is buffered.

import type { Readable } from 'node:stream';
import { socketErrorText } from './messages.js';

const EMPTY = Buffer.alloc(0);
/** Above this many buffered bytes the stream is paused until reads drain it. */
const HIGH_WATER = 256 * 1024;

export class ByteReader {
  readonly #stream: Readable;
  #chunks: Buffer[] = [];
  /** Bytes of #chunks[0] already handed out. */
  #off = 0;
  #size = 0;
  #eof = false;
  #error: string | undefined;
  #paused = false;
  /** Called on every arrival, end or error (one waiting read at a time, or the idle pool's watch). */
  onEvent: (() => void) | undefined;
  readonly #onData = (chunk: Buffer | string) => {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (b.length === 0) return;
    this.#chunks.push(b);
    this.#size += b.length;
    if (this.#size > HIGH_WATER && !this.#paused) {
      this.#paused = true;
      this.#stream.pause();
    }
    this.onEvent?.();
  };
  readonly #onEnd = () => {
    this.#eof = true;
    this.onEvent?.();
  };
  readonly #onError = (err: unknown) => {
    this.#error ??= socketErrorText(err);
    this.onEvent?.();
  };

  constructor(stream: Readable, head?: Uint8Array) {
    this.#stream = stream;
    if (head !== undefined && head.length > 0) {
      this.#chunks.push(Buffer.from(head));
      this.#size = head.length;
    }
    stream.on('data', this.#onData);
    stream.on('end', this.#onEnd);
    stream.on('close', this.#onEnd);
    stream.on('error', this.#onError);
  }

  /** Bytes buffered. */
  get size(): number {
    return this.#size;
  }

  /** The peer ended (or the stream closed): no more bytes will come after the buffered ones. */
  get ended(): boolean {
    return this.#eof;
  }

  /** The stream failed ("connection reset by peer"); undefined while it has not. */
  get error(): string | undefined {
    return this.#error;
  }

  /** No more bytes will arrive: the buffered ones are all there is. */
  get done(): boolean {
    return this.#eof || this.#error !== undefined;
  }

  /** Stops listening to the stream (it is handed on, e.g. wrapped by TLS). Returns what was buffered. */
  detach(): Buffer {
    const s = this.#stream;
    s.off('data', this.#onData);
    s.off('end', this.#onEnd);
    s.off('close', this.#onEnd);
    s.off('error', this.#onError);
    this.onEvent = undefined;
    if (this.#paused) s.resume();
    return this.take(this.#size);
  }

  /** Index (from the read position) of the first `byte`, or -1. */
  indexOf(byte: number): number {
    let base = 0;
    for (let i = 0; i < this.#chunks.length; i++) {
      const c = this.#chunks[i] as Buffer;
      const from = i === 0 ? this.#off : 0;
      const at = c.indexOf(byte, from);
      if (at !== -1) return base + at - from;
      base += c.length - from;
    }
    return -1;
  }

  /** Takes `n` bytes (n <= size). */
  take(n: number): Buffer {
    if (n === 0) return EMPTY;
    const first = this.#chunks[0] as Buffer;
    const avail = first.length - this.#off;
    let out: Buffer;
    if (n <= avail) {
      out = first.subarray(this.#off, this.#off + n);
      this.#off += n;
      if (this.#off === first.length) {
        this.#chunks.shift();
        this.#off = 0;
      }
    } else {
      out = Buffer.allocUnsafe(n);
      let filled = 0;
      while (filled < n) {
        const c = this.#chunks[0] as Buffer;
        const k = Math.min(c.length - this.#off, n - filled);
        c.copy(out, filled, this.#off, this.#off + k);
        filled += k;
        this.#off += k;
        if (this.#off === c.length) {
          this.#chunks.shift();
          this.#off = 0;
        }
      }
    }
    this.#size -= n;
    if (this.#paused && this.#size < HIGH_WATER / 2) {
      this.#paused = false;
      this.#stream.resume();
    }
    return out;
  }

  /** The byte at `i` from the read position (i < size). */
  byteAt(i: number): number {
    let k = i + this.#off;
    for (const c of this.#chunks) {
      if (k < c.length) return c[k] as number;
      k -= c.length;
    }
    return -1;
  }

  /** The current first chunk's unread bytes (a view; nothing is consumed). */
  head(): Buffer {
    const first = this.#chunks[0];
    return first === undefined ? EMPTY : first.subarray(this.#off);
  }
}
