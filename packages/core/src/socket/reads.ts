// The reading half of a cosocket (tcp and ngx.req.socket): receive("*l" | "*a" | n), receiveany,
// receiveuntil, each answering at once when the bytes are there and waiting (with the read
// timeout) when not. Results are lua-nginx-module's: data, or nil + error + partial data.

import type { Clock } from '../clock.js';
import type { ByteReader } from './reader.js';
import type { UntilMatcher } from './until.js';

/** `[data]`, or `[null, error]` / `[null, error, partial]` (partial: what was read before the error). */
export type ReadResult = [data: Buffer] | [data: null, err: string] | [data: null, err: string, partial: Buffer] | [null, null, null];

/** A pending cosocket operation: a promise that can be given up (its thread was killed). */
export type Pending<T> = Promise<T> & { cancel?: () => void };

export type ReadPattern = '*l' | '*a' | number;

const EMPTY = Buffer.alloc(0);
/** Longer timers than this do not fire as asked (Node clamps them): no timer at all. */
const MAX_TIMER_MS = 2_147_483_647;
const CR = 13;
const LF = 10;

export interface ReadHost {
  readonly clock: Clock;
  /** Writes "lua tcp socket read timed out" and the like (lua_socket_log_errors). */
  logError(message: string): void;
}

export class SocketReads {
  readonly #host: ReadHost;
  readonly #kind: string;
  reader: ByteReader | undefined;
  /** The read timeout in ms (0: wait for ever). */
  timeout = 60_000;
  /** A read failed (closed, reset): later reads say "closed". */
  readClosed = false;
  /** The last read left bytes in the buffer (setkeepalive: "unread data in buffer"). */
  leftover = false;
  #busy = false;

  constructor(host: ReadHost, kind: 'tcp' | 'udp' = 'tcp') {
    this.#host = host;
    this.#kind = kind;
  }

  get busy(): boolean {
    return this.#busy;
  }

  receive(pattern: ReadPattern): ReadResult | Pending<ReadResult> {
    const reader = this.#usable();
    if (!(reader instanceof Object) || Array.isArray(reader)) return reader as ReadResult;
    const attempt = pattern === '*l' ? () => this.#line(reader) : pattern === '*a' ? () => this.#all(reader) : () => this.#count(reader, pattern);
    const now = attempt();
    if (now !== undefined) return this.#settled(reader, now);
    return this.#wait(reader, attempt, () => [null, 'timeout', reader.take(reader.size)]);
  }

  receiveAny(max: number): ReadResult | Pending<ReadResult> {
    const reader = this.#usable();
    if (!(reader instanceof Object) || Array.isArray(reader)) return reader as ReadResult;
    const attempt = (): ReadResult | undefined => {
      if (reader.size > 0) return [reader.take(Math.min(max, reader.size))];
      if (reader.done) return this.#failed(reader, EMPTY);
      return undefined;
    };
    const now = attempt();
    if (now !== undefined) return this.#settled(reader, now);
    return this.#wait(reader, attempt, () => [null, 'timeout', EMPTY]);
  }

  /** One call of a receiveuntil iterator; `size` limits the bytes returned (undefined: up to the boundary). */
  receiveUntil(m: UntilMatcher, size: number | undefined): ReadResult | Pending<ReadResult> {
    if (m.finished) {
      m.finished = false;
      return [null, null, null];
    }
    const reader = this.#usable();
    if (!(reader instanceof Object) || Array.isArray(reader)) return reader as ReadResult;
    const max = size ?? Infinity;
    const attempt = (): ReadResult | undefined => {
      const found = m.scan(reader, max);
      if (found === 'match') {
        if (size !== undefined) m.finished = true;
        return [size === undefined ? m.takeOut() : m.takeUpTo(max)];
      }
      if (found === 'full') return [m.takeUpTo(max)];
      if (reader.done) {
        m.dropHeld();
        return this.#failed(reader, m.takeOut());
      }
      return undefined;
    };
    const now = attempt();
    if (now !== undefined) return this.#settled(reader, now);
    return this.#wait(reader, attempt, () => [null, 'timeout', m.takeOut()]);
  }

  /** A read is answered: note whether it left bytes behind. */
  #settled(reader: ByteReader, r: ReadResult): ReadResult {
    this.leftover = reader.size > 0;
    return r;
  }

  /** The reader, or the "closed" / "busy" answer when it cannot be read. */
  #usable(): ByteReader | ReadResult {
    const reader = this.reader;
    if (reader === undefined || this.readClosed) {
      this.#host.logError('attempt to receive data on a closed socket');
      return [null, 'closed'];
    }
    if (this.#busy) return [null, 'socket busy reading'];
    return reader;
  }

  #line(reader: ByteReader): ReadResult | undefined {
    const at = reader.indexOf(LF);
    if (at === -1) {
      if (reader.done) return this.#failed(reader, withoutCr(reader.take(reader.size)));
      return undefined;
    }
    const line = reader.take(at + 1);
    return [withoutCr(line.subarray(0, at))];
  }

  #all(reader: ByteReader): ReadResult | undefined {
    if (reader.error !== undefined) return this.#failed(reader, reader.take(reader.size));
    if (!reader.ended) return undefined;
    return [reader.take(reader.size)];
  }

  #count(reader: ByteReader, n: number): ReadResult | undefined {
    if (reader.size >= n) return [reader.take(n)];
    if (reader.done) return this.#failed(reader, reader.take(reader.size));
    return undefined;
  }

  /** The stream ended or failed under a read: nil, "closed" (or the error), partial; later reads say "closed". */
  #failed(reader: ByteReader, partial: Buffer): ReadResult {
    this.readClosed = true;
    return [null, reader.error ?? 'closed', partial];
  }

  #wait(reader: ByteReader, attempt: () => ReadResult | undefined, onTimeout: () => ReadResult): Pending<ReadResult> {
    this.#busy = true;
    let cancelTimer: (() => void) | undefined;
    let settle!: (r: ReadResult) => void;
    const done = () => {
      reader.onEvent = undefined;
      cancelTimer?.();
      this.#busy = false;
    };
    const p: Pending<ReadResult> = new Promise<ReadResult>((resolve) => {
      settle = resolve;
    });
    reader.onEvent = () => {
      const r = attempt();
      if (r === undefined) return;
      done();
      settle(this.#settled(reader, r));
    };
    if (this.timeout > 0 && this.timeout <= MAX_TIMER_MS) {
      cancelTimer = this.#host.clock.schedule(() => {
        done();
        this.#host.logError(`lua ${this.#kind} socket read timed out`);
        settle(this.#settled(reader, onTimeout()));
      }, this.timeout);
    }
    p.cancel = done;
    return p;
  }
}

/** A line without its CR bytes: lua-nginx-module drops every CR of a `*l` line. */
function withoutCr(line: Buffer): Buffer {
  if (line.indexOf(CR) === -1) return line;
  const out = Buffer.allocUnsafe(line.length);
  let n = 0;
  for (const b of line) if (b !== CR) out[n++] = b;
  return out.subarray(0, n);
}
