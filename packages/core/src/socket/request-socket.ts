// ngx.req.socket(): the request body as a read-only cosocket (receive, receiveany, receiveuntil,
// settimeout), or in raw mode the client connection itself (also send) once the adapter hands
// it over (an upgraded connection).

import type { Duplex, Readable } from 'node:stream';
import type { SocketScope } from './hub.js';
import { ByteReader } from './reader.js';
import { SocketReads, type Pending, type ReadPattern, type ReadResult } from './reads.js';
import type { SendResult } from './tcp.js';
import { UntilMatcher } from './until.js';

export interface RequestSocket {
  receive(pattern?: ReadPattern): ReadResult | Pending<ReadResult>;
  receiveAny(max: number): ReadResult | Pending<ReadResult>;
  receiveUntil(pattern: string | Uint8Array, options?: { inclusive?: boolean }): [iterator: (size?: number) => ReadResult | Pending<ReadResult>] | [null, string];
  setTimeout(ms: number): void;
  setTimeouts(connectMs: number, sendMs: number, readMs: number): void;
  /** Raw mode only: writes to the client connection. */
  send?(data: Uint8Array | string): SendResult | Pending<SendResult>;
}

/** A read-only cosocket over the request body stream. */
export function bodySocket(scope: SocketScope, body: Readable): RequestSocket {
  return new BodySocket(scope, new ByteReader(body));
}

/** The client connection itself (raw mode): reads what follows the request head, writes go straight out. */
export function rawSocket(scope: SocketScope, connection: Duplex, head: Uint8Array): RequestSocket {
  return new RawSocket(scope, connection, new ByteReader(connection, head));
}

class BodySocket implements RequestSocket {
  protected readonly scope: SocketScope;
  protected readonly reads: SocketReads;
  protected sendTimeout = 0;

  constructor(scope: SocketScope, reader: ByteReader) {
    this.scope = scope;
    this.reads = new SocketReads({ clock: scope.hub.clock, logError: (m) => this.logError(m) });
    this.reads.reader = reader;
    this.reads.timeout = scope.hub.defaults.readTimeout;
  }

  receive(pattern: ReadPattern = '*l'): ReadResult | Pending<ReadResult> {
    return this.reads.receive(pattern);
  }

  receiveAny(max: number): ReadResult | Pending<ReadResult> {
    return this.reads.receiveAny(max);
  }

  receiveUntil(pattern: string | Uint8Array, options: { inclusive?: boolean } = {}): [iterator: (size?: number) => ReadResult | Pending<ReadResult>] | [null, string] {
    const bytes = Buffer.from(pattern);
    if (bytes.length === 0) return [null, 'pattern is empty'];
    const matcher = new UntilMatcher(bytes, options.inclusive === true);
    return [(size) => this.reads.receiveUntil(matcher, size)];
  }

  setTimeout(ms: number): void {
    this.setTimeouts(ms, ms, ms);
  }

  setTimeouts(_connectMs: number, sendMs: number, readMs: number): void {
    this.sendTimeout = sendMs;
    this.reads.timeout = readMs > 0 ? readMs : this.scope.hub.defaults.readTimeout;
  }

  protected logError(message: string): void {
    if (this.scope.hub.defaults.logErrors) this.scope.log('error', message);
  }
}

class RawSocket extends BodySocket {
  readonly #connection: Duplex;

  constructor(scope: SocketScope, connection: Duplex, reader: ByteReader) {
    super(scope, reader);
    this.#connection = connection;
    scope.open.add({ destroy: () => connection.destroy() });
  }

  send(data: Uint8Array | string): SendResult | Pending<SendResult> {
    const c = this.#connection;
    if (c.destroyed || c.writableEnded) {
      this.logError('attempt to send data on a closed socket');
      return [null, 'closed'];
    }
    const n = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
    if (n === 0 || c.write(data)) return [n];
    let cancelTimer: (() => void) | undefined;
    let settle!: (r: SendResult) => void;
    const p: Pending<SendResult> = new Promise<SendResult>((resolve) => {
      settle = (r) => {
        c.off('drain', onDrain);
        c.off('close', onClose);
        cancelTimer?.();
        resolve(r);
      };
    });
    const onDrain = () => settle([n]);
    const onClose = () => settle([null, 'closed']);
    c.on('drain', onDrain);
    c.on('close', onClose);
    const ms = this.sendTimeout > 0 ? this.sendTimeout : this.scope.hub.defaults.sendTimeout;
    if (ms > 0) {
      cancelTimer = this.scope.hub.clock.schedule(() => {
        this.logError('lua tcp socket write timed out');
        c.destroy();
        settle([null, 'timeout']);
      }, ms);
    }
    p.cancel = () => settle([null, 'closed']);
    return p;
  }
}
