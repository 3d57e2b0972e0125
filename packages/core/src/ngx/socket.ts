// ngx.socket (tcp, udp, connect), ngx.req.socket and ngx.on_abort for a request: the cosockets a
// request opens belong to it and are closed when it ends.

import { BadArgumentError } from '../errors.js';
import { checkApi } from '../phases/api-rules.js';
import type { RequestState } from '../request/state.js';
import { bodySocket, createTcpCosocket, createUdpCosocket, rawSocket, type ConnectOptions, type Pending, type RequestSocket, type SocketScope, type TcpCosocket, type UdpCosocket } from '../socket/index.js';
import type { NgxSocket } from './types.js';

/** The request's socket scope (made on first use). */
export function socketScope(s: RequestState): SocketScope {
  return (s.sockets ??= {
    hub: s.engine.cosockets,
    open: new Set(),
    log: (level, message) => s.engine.log(level, message, s),
  });
}

/** `ngx.socket` for the request `s`. */
export function ngxSocket(s: RequestState): NgxSocket {
  return {
    tcp: (): TcpCosocket => {
      checkApi('ngx.socket.tcp', s.phase);
      return createTcpCosocket(socketScope(s));
    },
    udp: (): UdpCosocket => {
      checkApi('ngx.socket.udp', s.phase);
      return createUdpCosocket(socketScope(s));
    },
    connect: (host: string, port?: number, options?: ConnectOptions) => {
      checkApi('ngx.socket.tcp', s.phase);
      const sock = createTcpCosocket(socketScope(s));
      const r = sock.connect(host, port, options);
      const answer = (v: Awaited<typeof r>): [TcpCosocket] | [null, string] => (v[0] === 1 ? [sock] : [null, v[1]]);
      if (Array.isArray(r)) return answer(r);
      const p: Pending<[TcpCosocket] | [null, string]> = r.then(answer);
      p.cancel = r.cancel;
      return p;
    },
  };
}

/**
 * ngx.req.socket(raw): the request body as a socket, or (raw) the client connection of an
 * upgraded request. `[socket]`, or `[null, reason]` as lua-nginx-module gives it.
 */
export function requestSocket(s: RequestState, raw: boolean): [RequestSocket] | [null, string] {
  checkApi('ngx.req.socket', s.phase);
  if (s.parent !== undefined) return [null, 'nginx.req.socket is not supported in subrequests'];
  if (raw) {
    if (s.bodySocket === 'raw') return [null, 'duplicate call'];
    const taken = s.exchange.takeConnection?.();
    if (taken === undefined) return [null, 'raw request socket is not available (the server did not hand over an upgraded connection)'];
    s.bodySocket = 'raw';
    s.bodyRead = true;
    return [rawSocket(socketScope(s), taken.socket, taken.head)];
  }
  if (s.bodySocket !== undefined || s.bodyRead) return [null, 'request body already exists'];
  const headers = s.exchange.headers;
  const te = headers['transfer-encoding'];
  if (te !== undefined && String(te).toLowerCase().includes('chunked')) return [null, 'chunked request bodies not supported yet'];
  const length = Number(headers['content-length'] ?? 0);
  if (!(length > 0)) return [null, 'no body'];
  if (length > s.engine.clientMaxBodySize) return [null, 'request entity too large'];
  const stream = s.exchange.bodyStream?.();
  if (stream === undefined) return [null, 'the request body cannot be streamed by this server'];
  s.bodySocket = 'body';
  s.bodyRead = true;
  return [bodySocket(socketScope(s), stream)];
}

/**
 * ngx.on_abort(handler): `handler` runs when the client goes away (checkClientAbort must be on).
 * `[true]`, or `[undefined, reason]`; the phase check comes after the config check, as in OpenResty.
 */
export function onAbort(s: RequestState, handler: () => void): [true] | [undefined, string] {
  if (s.location.checkClientAbort !== true) return [undefined, 'lua_check_client_abort is off'];
  checkApi('ngx.on_abort', s.phase);
  if (s.abortHandler !== undefined) return [undefined, 'duplicate call'];
  if (typeof handler !== 'function') throw new BadArgumentError('bad argument #1 to \'on_abort\' (function expected)');
  s.abortHandler = handler;
  return [true];
}
