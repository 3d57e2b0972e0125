// ngx.socket.tcp(): a cosocket on node:net (and node:tls after sslhandshake) with
// lua-nginx-module's return conventions: `[1]` / `[data]` on success, `[null, err, partial?]` on failure.

import { connect as netConnect, type Socket } from 'node:net';
import type { Closable, SocketScope } from './hub.js';
import { socketErrorText, syscallLogText } from './messages.js';
import type { Connection, SocketPool } from './pool.js';
import { ByteReader } from './reader.js';
import { SocketReads, type Pending, type ReadHost, type ReadPattern, type ReadResult } from './reads.js';
import type { Clock } from '../clock.js';
import { startTls, type TlsOptions } from './tls.js';
import { UntilMatcher } from './until.js';

export type { Pending, ReadResult, ReadPattern } from './reads.js';
export type OkResult = [ok: 1] | [ok: null, err: string];
export type SendResult = [bytes: number] | [bytes: null, err: string];
/** sslhandshake: the TLS session (or true when `reusedSession` was false), else `[null, err]`. */
export type HandshakeResult = [session: Buffer | true] | [session: null, err: string];

export interface ConnectOptions {
  /** The pool's name (default `host:port`, or the unix socket path). */
  pool?: string;
  /** The pool's size when this connect makes it (lua_socket_pool_size). */
  poolSize?: number;
  /** Connects that may wait for a free slot once `poolSize` connections are open. */
  backlog?: number;
}

export interface TcpCosocket {
  connect(host: string, port?: number, options?: ConnectOptions): OkResult | Pending<OkResult>;
  sslHandshake(options?: TlsOptions): HandshakeResult | Pending<HandshakeResult>;
  send(data: Uint8Array | string): SendResult | Pending<SendResult>;
  receive(pattern?: ReadPattern): ReadResult | Pending<ReadResult>;
  receiveAny(max: number): ReadResult | Pending<ReadResult>;
  /** An iterator: each call returns the data up to the next `pattern` (at most `size` bytes at a time). */
  receiveUntil(pattern: string | Uint8Array, options?: { inclusive?: boolean }): [iterator: (size?: number) => ReadResult | Pending<ReadResult>] | [null, string];
  /** All three timeouts, in ms (0: the engine's default). */
  setTimeout(ms: number): void;
  setTimeouts(connectMs: number, sendMs: number, readMs: number): void;
  /** Puts the connection in its pool (idle `timeoutMs`, 0 = no limit, undefined = default). */
  setKeepalive(timeoutMs?: number, poolSize?: number): OkResult;
  getReusedTimes(): [times: number] | [null, string];
  close(): OkResult;
  setOption(name: string, value: unknown): [true] | [null, string];
  getOption(name: string): [value: number] | [null, string];
}

/** A TCP cosocket of `scope` (a request or a timer's run). */
export function createTcpCosocket(scope: SocketScope): TcpCosocket {
  return new Tcp(scope);
}

const OPTIONS = new Set(['keepalive', 'reuseaddr', 'tcp-nodelay', 'sndbuf', 'rcvbuf']);

class Tcp implements TcpCosocket, Closable, ReadHost {
  readonly #scope: SocketScope;
  readonly #reads: SocketReads;
  #conn: Connection | undefined;
  #poolName = '';
  /** ms; 0 = the engine default. */
  #connectTimeout = 0;
  #sendTimeout = 0;
  #readTimeout = 0;
  #writeBusy = false;
  #everConnected = false;
  /** A send timed out: the next close() answers 1. */
  #closeOnce = false;
  #options: Map<string, number> | undefined;

  constructor(scope: SocketScope) {
    this.#scope = scope;
    this.#reads = new SocketReads(this);
  }

  connect(host: string, port?: number, options: ConnectOptions = {}): OkResult | Pending<OkResult> {
    if (this.#conn !== undefined) this.destroy();
    const unix = host.startsWith('unix:');
    if (!unix) {
      if (port === undefined || Number.isNaN(port)) return [null, 'missing the port number'];
      if (!Number.isInteger(port) || port < 0 || port > 65535) return [null, `bad port number: ${port}`];
    }
    const hub = this.#scope.hub;
    if (hub.closed) return [null, 'closed'];
    const name = options.pool ?? (unix ? host : `${host}:${port}`);
    this.#poolName = name;
    const pool = hub.pools.get(name);
    const pooled = pool?.take();
    if (pooled !== undefined) {
      this.#attach(pooled);
      return [1];
    }
    if (options.backlog !== undefined) {
      const limited = hub.pools.ensure(name, options.poolSize ?? hub.defaults.poolSize);
      limited.backlog ??= options.backlog;
      if (limited.connections >= limited.size) {
        if (limited.waiting >= limited.backlog) return [null, 'too many waiting connect operations'];
        return this.#waitSlot(limited, host, port);
      }
      limited.connections++;
      return this.#open(host, port, limited);
    }
    if (options.poolSize !== undefined) hub.pools.ensure(name, options.poolSize);
    return this.#open(host, port, undefined);
  }

  #waitSlot(pool: SocketPool, host: string, port: number | undefined): Pending<OkResult> {
    const wait = pool.wait(this.#timeout('connect'));
    const p: Pending<OkResult> = wait.then(
      (conn) => {
        if (conn !== undefined) {
          this.#attach(conn);
          return [1] as OkResult;
        }
        return this.#open(host, port, pool);
      },
      (): OkResult => {
        this.logError('lua tcp socket queued connect timed out');
        return [null, 'timeout'];
      },
    );
    p.cancel = wait.cancel;
    return p;
  }

  #open(host: string, port: number | undefined, counted: SocketPool | undefined): Pending<OkResult> {
    const unix = host.startsWith('unix:');
    const lookup = this.#scope.hub.lookup;
    const socket = unix
      ? netConnect({ path: host.slice(5), allowHalfOpen: true })
      : netConnect({ host, port: port as number, allowHalfOpen: true, noDelay: true, ...(lookup === undefined ? {} : { lookup }) });
    let cancelTimer: (() => void) | undefined;
    const p: Pending<OkResult> = new Promise<OkResult>((resolve) => {
      const fail = (err: unknown) => {
        cleanup();
        socket.destroy();
        counted?.release();
        resolve([null, this.#connectError(host, err)]);
      };
      const ok = () => {
        cleanup();
        const conn: Connection = { socket, reader: new ByteReader(socket), reused: 0, tls: false, counted };
        this.#attach(conn);
        resolve([1]);
      };
      const cleanup = () => {
        socket.off('connect', ok);
        socket.off('error', fail);
        cancelTimer?.();
      };
      socket.once('connect', ok);
      socket.once('error', fail);
      const ms = this.#timeout('connect');
      if (ms > 0) {
        cancelTimer = this.#scope.hub.clock.schedule(() => {
          this.logError('lua tcp socket connect timed out, when connecting to ' + (unix ? host : `${host}:${port}`));
          fail(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' }));
        }, ms);
      }
    });
    p.cancel = () => {
      cancelTimer?.();
      socket.destroy();
    };
    return p;
  }

  #connectError(host: string, err: unknown): string {
    const code = (err as { code?: unknown } | null)?.code;
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NODATA' || code === 'EAI_FAIL') {
      const text = `${host} could not be resolved (3: Host not found)`;
      this.logError(text);
      return text;
    }
    if (code !== 'ETIMEDOUT') this.#log(host.startsWith('unix:') ? 'crit' : 'error', syscallLogText(host.startsWith('unix:') ? `connect() to ${host}` : 'connect()', err));
    return socketErrorText(err);
  }

  #attach(conn: Connection): void {
    this.#conn = conn;
    this.#closeOnce = false;
    this.#everConnected = true;
    this.#reads.leftover = false;
    this.#reads.reader = conn.reader;
    this.#reads.readClosed = false;
    this.#reads.timeout = this.#timeout('read');
    this.#scope.open.add(this);
    this.#scope.hub.live.add(this);
  }

  /** Forgets the connection (closed or pooled). */
  #detach(): Connection | undefined {
    const conn = this.#conn;
    this.#conn = undefined;
    this.#reads.reader = undefined;
    this.#scope.open.delete(this);
    this.#scope.hub.live.delete(this);
    return conn;
  }

  /** Closes the connection (request end, engine close, errors). */
  destroy(): void {
    const conn = this.#detach();
    if (conn === undefined) return;
    conn.socket.destroy();
    conn.counted?.release();
  }

  sslHandshake(options: TlsOptions = {}): HandshakeResult | Pending<HandshakeResult> {
    const conn = this.#conn;
    if (conn === undefined) return [null, 'closed'];
    if (conn.tls) return [options.reusedSession === false ? true : sessionOf(conn.socket)];
    const ca = this.#scope.hub.defaults.trustedCertificates;
    const p = startTls(conn, options, { timeoutMs: this.#timeout('read'), clock: this.#scope.hub.clock, ca });
    const done: Pending<HandshakeResult> = p.then((r) => {
      if (this.#conn !== conn) return [null, 'closed'] as HandshakeResult;
      if (r.ok) {
        this.#reads.reader = conn.reader;
        return [options.reusedSession === false ? true : r.session] as HandshakeResult;
      }
      if (r.log !== undefined) this.logError(r.log);
      this.destroy();
      return [null, r.error] as HandshakeResult;
    });
    done.cancel = p.cancel;
    return done;
  }

  send(data: Uint8Array | string): SendResult | Pending<SendResult> {
    const conn = this.#conn;
    if (conn === undefined) {
      this.logError('attempt to send data on a closed socket');
      return [null, 'closed'];
    }
    if (this.#writeBusy) return [null, 'socket busy writing'];
    const socket = conn.socket;
    const n = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
    if (socket.destroyed || socket.writableEnded) {
      // A reset a read already reported reads as a broken pipe on the next send, as the kernel says.
      const err = conn.reader.error === 'connection reset by peer' && this.#reads.readClosed ? 'broken pipe' : conn.reader.error;
      this.destroy();
      return [null, err ?? 'closed'];
    }
    if (n === 0) return [0];
    if (socket.write(data)) return [n];
    return this.#drain(conn, n);
  }

  /** The kernel did not take everything: wait until it did (send timeout closes the connection). */
  #drain(conn: Connection, n: number): Pending<SendResult> {
    const socket = conn.socket;
    this.#writeBusy = true;
    let cancelTimer: (() => void) | undefined;
    let finish!: (r: SendResult) => void;
    const p: Pending<SendResult> = new Promise<SendResult>((resolve) => {
      finish = (r) => {
        socket.off('drain', onDrain);
        socket.off('close', onClose);
        cancelTimer?.();
        this.#writeBusy = false;
        resolve(r);
      };
    });
    const onDrain = () => finish([n]);
    const onClose = () => {
      const err = conn.reader.error ?? 'closed';
      if (this.#conn === conn) this.destroy();
      finish([null, err]);
    };
    socket.on('drain', onDrain);
    socket.on('close', onClose);
    const ms = this.#timeout('send');
    if (ms > 0) {
      cancelTimer = this.#scope.hub.clock.schedule(() => {
        this.logError('lua tcp socket write timed out');
        if (this.#conn === conn) {
          this.destroy();
          // nginx finalizes only the write side here: a close() afterwards still answers 1.
          this.#closeOnce = true;
        }
        finish([null, 'timeout']);
      }, ms);
    }
    p.cancel = () => finish([null, 'closed']);
    return p;
  }

  receive(pattern: ReadPattern = '*l'): ReadResult | Pending<ReadResult> {
    if (pattern === 0) return this.#conn === undefined ? this.#reads.receive(0) : [Buffer.alloc(0)];
    return this.#reads.receive(pattern);
  }

  receiveAny(max: number): ReadResult | Pending<ReadResult> {
    return this.#reads.receiveAny(max);
  }

  receiveUntil(pattern: string | Uint8Array, options: { inclusive?: boolean } = {}): [iterator: (size?: number) => ReadResult | Pending<ReadResult>] | [null, string] {
    const bytes = typeof pattern === 'string' ? Buffer.from(pattern) : Buffer.from(pattern);
    if (bytes.length === 0) return [null, 'pattern is empty'];
    const matcher = new UntilMatcher(bytes, options.inclusive === true);
    return [(size) => this.#reads.receiveUntil(matcher, size)];
  }

  setTimeout(ms: number): void {
    this.setTimeouts(ms, ms, ms);
  }

  setTimeouts(connectMs: number, sendMs: number, readMs: number): void {
    this.#connectTimeout = connectMs;
    this.#sendTimeout = sendMs;
    this.#readTimeout = readMs;
    this.#reads.timeout = this.#timeout('read');
  }

  #timeout(kind: 'connect' | 'send' | 'read'): number {
    const d = this.#scope.hub.defaults;
    const own = kind === 'connect' ? this.#connectTimeout : kind === 'send' ? this.#sendTimeout : this.#readTimeout;
    if (own > 0) return own;
    return kind === 'connect' ? d.connectTimeout : kind === 'send' ? d.sendTimeout : d.readTimeout;
  }

  setKeepalive(timeoutMs?: number, poolSize?: number): OkResult {
    const conn = this.#conn;
    if (conn === undefined) return [null, 'closed'];
    if (this.#reads.readClosed) {
      this.destroy();
      return [null, 'closed'];
    }
    if (this.#reads.busy) return [null, 'socket busy reading'];
    if (this.#writeBusy) return [null, 'socket busy writing'];
    const reader = conn.reader;
    // The peer already closed (a read saw its end): "closed", and what is buffered can still be read.
    const leftover = this.#reads.leftover;
    if (reader.done && leftover) return [null, 'closed'];
    if (reader.size > 0 && leftover) return [null, 'unread data in buffer'];
    if (reader.size > 0 || reader.done || conn.socket.destroyed) {
      this.destroy();
      return [null, 'connection in dubious state'];
    }
    const hub = this.#scope.hub;
    if (hub.closed) {
      this.destroy();
      return [1];
    }
    const pool = hub.pools.ensure(this.#poolName, poolSize ?? hub.defaults.poolSize);
    this.#detach();
    pool.put(conn, timeoutMs ?? hub.defaults.keepaliveTimeout);
    return [1];
  }

  getReusedTimes(): [number] | [null, string] {
    const conn = this.#conn;
    return conn === undefined ? [null, 'closed'] : [conn.reused];
  }

  close(): OkResult {
    if (this.#closeOnce) {
      this.#closeOnce = false;
      return [1];
    }
    if (this.#conn === undefined) return [null, 'closed'];
    this.destroy();
    return [1];
  }

  /** True once connect() succeeded at least once (sslhandshake/setoption need a socket). */
  get everConnected(): boolean {
    return this.#everConnected;
  }

  setOption(name: string, value: unknown): [true] | [null, string] {
    if (!OPTIONS.has(name)) return [null, `unsupported option ${name}`];
    const conn = this.#conn;
    if (conn === undefined) return [null, 'closed'];
    const n = typeof value === 'boolean' ? (value ? 1 : 0) : Number(value);
    if (name === 'keepalive') conn.socket.setKeepAlive(n !== 0);
    else if (name === 'tcp-nodelay') conn.socket.setNoDelay(n !== 0);
    else if (name !== 'reuseaddr') return [null, `unsupported option ${name}`];
    (this.#options ??= new Map()).set(name, n);
    return [true];
  }

  getOption(name: string): [number] | [null, string] {
    if (!OPTIONS.has(name) || name === 'sndbuf' || name === 'rcvbuf') return [null, `unsupported option ${name}`];
    if (this.#conn === undefined) return [null, 'closed'];
    return [this.#options?.get(name) ?? (name === 'tcp-nodelay' ? 1 : 0)];
  }

  /** ReadHost: the engine clock for read timeouts. */
  get clock(): Clock {
    return this.#scope.hub.clock;
  }

  /** ReadHost: an error-log line (lua_socket_log_errors). */
  logError(message: string): void {
    if (this.#scope.hub.defaults.logErrors) this.#scope.log('error', message);
  }

  #log(level: 'error' | 'crit', message: string): void {
    if (this.#scope.hub.defaults.logErrors) this.#scope.log(level, message);
  }
}

function sessionOf(socket: Socket): Buffer | true {
  const s = (socket as Socket & { getSession?: () => Buffer | undefined }).getSession?.();
  return s ?? true;
}
