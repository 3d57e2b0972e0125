// The JS side of the Lua socket objects: id → cosocket, by the request that made it. What a request
// made is dropped when it ends (its connections were closed by then); a Lua object used after that
// (kept in a module) gets a new, unconnected socket of the running request, as nginx's is closed.

import type { Ngx, Pending, RequestSocket, TcpCosocket, UdpCosocket } from '@phasekit/core';

export type Sock = TcpCosocket | UdpCosocket | RequestSocket;
export type SockKind = 'tcp' | 'udp' | 'req';
export type Iterator = (size?: number) => readonly unknown[] | Pending<readonly unknown[]>;

export interface Entry {
  sock: Sock;
  /** The request (or timer run) it belongs to. */
  ngx: Ngx;
  readonly kind: SockKind;
}

const CLOSED: readonly unknown[] = Object.freeze([null, 'closed']);
/** A request socket whose request is over: every read says "closed". */
const CLOSED_REQUEST_SOCKET: RequestSocket = {
  receive: () => [null, 'closed'],
  receiveAny: () => [null, 'closed'],
  receiveUntil: () => [() => [null, 'closed']],
  setTimeout: () => undefined,
  setTimeouts: () => undefined,
  send: () => [null, 'closed'],
};

export class SocketRegistry {
  readonly #entries = new Map<number, Entry>();
  readonly #iterators = new Map<number, Iterator>();
  /** Ids (sockets and iterators) made by each request, dropped when it ends. */
  readonly #owned = new Map<Ngx, number[]>();
  #seq = 0;

  add(sock: Sock, ngx: Ngx, kind: SockKind): number {
    const id = ++this.#seq;
    this.#entries.set(id, { sock, ngx, kind });
    this.#own(ngx, id);
    return id;
  }

  addIterator(it: Iterator, ngx: Ngx): number {
    const id = ++this.#seq;
    this.#iterators.set(id, it);
    this.#own(ngx, id);
    return id;
  }

  /** The entry `id`; one whose request ended comes back as a new unconnected socket of `running`. */
  get(id: number, kind: SockKind, running: Ngx): Entry {
    const e = this.#entries.get(id);
    if (e !== undefined) return e;
    const sock = kind === 'tcp' ? running.socket.tcp() : kind === 'udp' ? running.socket.udp() : CLOSED_REQUEST_SOCKET;
    const fresh: Entry = { sock, ngx: running, kind };
    this.#entries.set(id, fresh);
    this.#own(running, id);
    return fresh;
  }

  /** A receiveuntil iterator; one whose request ended answers "closed". */
  iterator(id: number): Iterator {
    return this.#iterators.get(id) ?? (() => CLOSED);
  }

  /** Lua collected the objects `ids`: their connections close, as nginx closes a collected cosocket's. */
  release(ids: readonly number[]): void {
    for (const id of ids) {
      const e = this.#entries.get(id);
      if (e !== undefined && e.kind !== 'req') (e.sock as TcpCosocket | UdpCosocket).close();
      this.#entries.delete(id);
      this.#iterators.delete(id);
    }
  }

  /** The request ended: what it made is dropped (core closed its connections). */
  requestDone(ngx: Ngx): void {
    const ids = this.#owned.get(ngx);
    if (ids === undefined) return;
    this.#owned.delete(ngx);
    for (const id of ids) {
      this.#entries.delete(id);
      this.#iterators.delete(id);
    }
  }

  /** Entries held now (tests: nothing is kept after the requests ended). */
  get size(): number {
    return this.#entries.size + this.#iterators.size;
  }

  #own(ngx: Ngx, id: number): void {
    const ids = this.#owned.get(ngx);
    if (ids === undefined) this.#owned.set(ngx, [id]);
    else ids.push(id);
  }
}
