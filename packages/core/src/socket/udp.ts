// ngx.socket.udp(): a connected datagram socket on node:dgram (setpeername, send, receive,
// settimeout, close), with lua-nginx-module's return conventions.

import { createSocket, type Socket as DgramSocket, type SocketOptions } from 'node:dgram';
import { existsSync } from 'node:fs';
import { isIP } from 'node:net';
import type { Closable, SocketScope } from './hub.js';
import { socketErrorText } from './messages.js';
import type { Pending, ReadResult } from './reads.js';
import type { OkResult } from './tcp.js';

export interface UdpCosocket {
  setPeerName(host: string, port?: number): OkResult | Pending<OkResult>;
  send(data: Uint8Array | string): OkResult;
  /** The next datagram, cut to `size` bytes (default 65536). */
  receive(size?: number): ReadResult | Pending<ReadResult>;
  setTimeout(ms: number): void;
  close(): OkResult;
}

export function createUdpCosocket(scope: SocketScope): UdpCosocket {
  return new Udp(scope);
}

/** Datagrams kept while nobody receives (the kernel's buffer would hold a similar number). */
const MAX_QUEUED = 256;

class Udp implements UdpCosocket, Closable {
  readonly #scope: SocketScope;
  #socket: DgramSocket | undefined;
  #queue: Buffer[] = [];
  #error: string | undefined;
  #wake: (() => void) | undefined;
  #timeout = 0;

  constructor(scope: SocketScope) {
    this.#scope = scope;
  }

  setPeerName(host: string, port?: number): OkResult | Pending<OkResult> {
    this.destroy();
    if (host.startsWith('unix:')) {
      return [null, existsSync(host.slice(5)) ? 'unix datagram sockets are not supported' : 'no such file or directory'];
    }
    if (port === undefined) return [null, 'missing the port number'];
    const p = port;
    if (!Number.isInteger(p) || p <= 0 || p > 65535) return [null, `bad port number: ${p}`];
    const lookup = this.#scope.hub.lookup;
    const socket = createSocket({ type: isIP(host) === 6 ? 'udp6' : 'udp4', ...(lookup === undefined ? {} : { lookup: lookup as NonNullable<SocketOptions['lookup']> }) });
    this.#socket = socket;
    this.#queue = [];
    this.#error = undefined;
    socket.on('message', (msg) => {
      if (this.#queue.length < MAX_QUEUED) this.#queue.push(msg);
      this.#wake?.();
    });
    socket.on('error', (err) => {
      this.#error = socketErrorText(err);
      this.#wake?.();
    });
    this.#scope.open.add(this);
    this.#scope.hub.live.add(this);
    return new Promise<OkResult>((resolve) => {
      const onError = (err: unknown) => {
        this.destroy();
        const code = (err as { code?: string }).code;
        resolve([null, code === 'ENOTFOUND' || code === 'EAI_AGAIN' ? `${host} could not be resolved (3: Host not found)` : socketErrorText(err)]);
      };
      socket.once('error', onError);
      try {
        socket.connect(p, host, () => {
          socket.off('error', onError);
          resolve([1]);
        });
      } catch (err) {
        onError(err);
      }
    });
  }

  send(data: Uint8Array | string): OkResult {
    const socket = this.#socket;
    if (socket === undefined) {
      this.#logError('attempt to send data on a closed socket');
      return [null, 'closed'];
    }
    try {
      socket.send(data);
    } catch (err) {
      return [null, socketErrorText(err)];
    }
    return [1];
  }

  receive(size = 65536): ReadResult | Pending<ReadResult> {
    if (this.#socket === undefined) {
      this.#logError('attempt to receive data on a closed socket');
      return [null, 'closed'];
    }
    const now = this.#take(size);
    if (now !== undefined) return now;
    let cancelTimer: (() => void) | undefined;
    let settle!: (r: ReadResult) => void;
    const p: Pending<ReadResult> = new Promise<ReadResult>((resolve) => {
      settle = (r) => {
        this.#wake = undefined;
        cancelTimer?.();
        resolve(r);
      };
    });
    this.#wake = () => {
      const r = this.#take(size);
      if (r !== undefined) settle(r);
    };
    const ms = this.#timeout > 0 ? this.#timeout : this.#scope.hub.defaults.readTimeout;
    if (ms > 0) {
      cancelTimer = this.#scope.hub.clock.schedule(() => {
        this.#logError('lua udp socket read timed out');
        settle([null, 'timeout']);
      }, ms);
    }
    p.cancel = () => {
      this.#wake = undefined;
      cancelTimer?.();
    };
    return p;
  }

  #take(size: number): ReadResult | undefined {
    const msg = this.#queue.shift();
    if (msg !== undefined) return [msg.length > size ? msg.subarray(0, size) : msg];
    if (this.#socket === undefined) return [null, 'closed'];
    const err = this.#error;
    if (err !== undefined) {
      this.#error = undefined;
      return [null, err];
    }
    return undefined;
  }

  setTimeout(ms: number): void {
    this.#timeout = ms;
  }

  close(): OkResult {
    if (this.#socket === undefined) return [null, 'closed'];
    this.destroy();
    return [1];
  }

  destroy(): void {
    const socket = this.#socket;
    if (socket === undefined) return;
    this.#socket = undefined;
    this.#scope.open.delete(this);
    this.#scope.hub.live.delete(this);
    socket.close();
    this.#wake?.();
  }

  #logError(message: string): void {
    if (this.#scope.hub.defaults.logErrors) this.#scope.log('error', message);
  }
}
