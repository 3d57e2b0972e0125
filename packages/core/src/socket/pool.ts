// Keepalive pools of cosocket connections, by pool name ("host:port", the unix path, or the
// connect option `pool`): idle connections with their idle timeout, a size fixed when the pool is
// made (the oldest idle one is closed to make room), and the backlog of connects waiting for a
// free slot when the pool was given `backlog`.

import type { Socket } from 'node:net';
import type { Clock } from '../clock.js';
import type { ByteReader } from './reader.js';

/** One connection as a cosocket holds it, and as a pool keeps it between requests. */
export interface Connection {
  /** The socket (a TLSSocket once sslhandshake wrapped it). */
  socket: Socket;
  reader: ByteReader;
  /** Times it was taken from a pool (getreusedtimes). */
  reused: number;
  /** TLS is up on it (sslhandshake was done). */
  tls: boolean;
  /** The pool it counts against when that pool limits connections (backlog). */
  counted: SocketPool | undefined;
}

/** Longer timers than this do not fire as asked (Node clamps them): no timer at all. */
const MAX_TIMER_MS = 2_147_483_647;

interface Idle {
  conn: Connection;
  cancel: (() => void) | undefined;
}

interface Waiter {
  grant(conn: Connection | undefined): void;
}

export class SocketPool {
  readonly name: string;
  readonly size: number;
  /** Connects that may wait for a free slot; undefined: connections are not limited. */
  backlog: number | undefined;
  /** Connections counted against `size` (busy and idle) when `backlog` is set. */
  connections = 0;
  readonly #idle: Idle[] = [];
  readonly #waiting: Waiter[] = [];
  readonly #clock: Clock;
  readonly #onEmpty: (pool: SocketPool) => void;

  constructor(name: string, size: number, clock: Clock, onEmpty: (pool: SocketPool) => void) {
    this.name = name;
    this.size = size;
    this.#clock = clock;
    this.#onEmpty = onEmpty;
  }

  get idle(): number {
    return this.#idle.length;
  }

  get waiting(): number {
    return this.#waiting.length;
  }

  /** The most recently parked idle connection, taken out of the pool. */
  take(): Connection | undefined {
    const entry = this.#idle.pop();
    if (entry === undefined) return undefined;
    entry.cancel?.();
    const conn = entry.conn;
    conn.reader.onEvent = undefined;
    conn.socket.ref();
    conn.reused++;
    return conn;
  }

  /** Parks `conn` (idle for at most `timeoutMs`, 0 = no limit), or hands it to a waiting connect. */
  put(conn: Connection, timeoutMs: number): void {
    const waiter = this.#waiting.shift();
    if (waiter !== undefined) {
      conn.reused++;
      waiter.grant(conn);
      return;
    }
    const entry: Idle = { conn, cancel: undefined };
    // Data or a close while idle: the connection cannot be reused.
    conn.reader.onEvent = () => this.#evict(entry);
    if (timeoutMs > 0 && timeoutMs <= MAX_TIMER_MS) entry.cancel = this.#clock.schedule(() => this.#evict(entry), timeoutMs);
    conn.socket.unref();
    this.#idle.push(entry);
    // Full: the oldest idle connection makes room.
    if (this.#idle.length > this.size) this.#drop(this.#idle.shift() as Idle);
    if (conn.reader.done || conn.reader.size > 0) this.#evict(entry);
  }

  /**
   * Waits for a free slot (backlog): resolves with a pooled connection handed over, or undefined
   * when a new one may be opened; rejects with "timeout" after `timeoutMs`.
   */
  wait(timeoutMs: number): Promise<Connection | undefined> & { cancel?: () => void } {
    let waiter!: Waiter;
    let cancelTimer: (() => void) | undefined;
    const p: Promise<Connection | undefined> & { cancel?: () => void } = new Promise((resolve, reject) => {
      waiter = {
        grant: (conn) => {
          cancelTimer?.();
          resolve(conn);
        },
      };
      if (timeoutMs > 0 && timeoutMs <= MAX_TIMER_MS) {
        cancelTimer = this.#clock.schedule(() => {
          this.#unwait(waiter);
          reject(new Error('timeout'));
        }, timeoutMs);
      }
    });
    this.#waiting.push(waiter);
    p.cancel = () => {
      cancelTimer?.();
      this.#unwait(waiter);
    };
    return p;
  }

  /** A counted connection was closed: its slot goes to the first waiting connect. */
  release(): void {
    this.connections--;
    const waiter = this.#waiting.shift();
    if (waiter !== undefined) {
      this.connections++;
      waiter.grant(undefined);
    }
    this.#maybeEmpty();
  }

  closeAll(): void {
    for (const entry of this.#idle.splice(0)) this.#drop(entry);
  }

  #unwait(waiter: Waiter): void {
    const i = this.#waiting.indexOf(waiter);
    if (i !== -1) this.#waiting.splice(i, 1);
  }

  #evict(entry: Idle): void {
    const i = this.#idle.indexOf(entry);
    if (i === -1) return;
    this.#idle.splice(i, 1);
    this.#drop(entry);
  }

  #drop(entry: Idle): void {
    entry.cancel?.();
    const conn = entry.conn;
    conn.reader.onEvent = undefined;
    conn.socket.destroy();
    if (conn.counted === this) this.release();
    else this.#maybeEmpty();
  }

  #maybeEmpty(): void {
    if (this.#idle.length === 0 && this.#waiting.length === 0 && this.connections <= 0) this.#onEmpty(this);
  }
}

/** The pools of one engine, by name. */
export class SocketPools {
  readonly #pools = new Map<string, SocketPool>();
  readonly #clock: Clock;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  get(name: string): SocketPool | undefined {
    return this.#pools.get(name);
  }

  /** The pool `name`, made with `size` if it does not exist (a pool's size never changes). */
  ensure(name: string, size: number): SocketPool {
    let pool = this.#pools.get(name);
    if (pool === undefined) {
      pool = new SocketPool(name, size, this.#clock, (p) => {
        if (this.#pools.get(p.name) === p) this.#pools.delete(p.name);
      });
      this.#pools.set(name, pool);
    }
    return pool;
  }

  /** How many pools exist (tests: nothing is left behind). */
  get size(): number {
    return this.#pools.size;
  }

  closeAll(): void {
    for (const pool of [...this.#pools.values()]) pool.closeAll();
    this.#pools.clear();
  }
}
