// ngx.socket.tcp / udp / connect / stream and ngx.req.socket: Lua objects over core's cosockets.
// A call answers at once when it can (a pooled connect, a buffered line) and yields only to wait.

import { checkRequestApi, type Ngx, type Pending, type ReadPattern, type TcpCosocket, type UdpCosocket } from '@phasekit/core';
import { SocketRegistry, type Entry, type SockKind } from './socket-registry.js';
import type { LuaCall, LuaRef } from '../vm/index.js';
import { guard, type RequestInstall } from './request.js';
import { CONNECT_LUA, SOCKET_LUA } from './socket-lua.js';

export function installSocket(ctx: RequestInstall): void {
  const { vm, ngx } = ctx;
  const js = vm.newTable();
  const reg = new SocketRegistry();
  ctx.onRequestDone((r) => reg.requestDone(r));
  const fn = (name: string, f: (call: LuaCall) => number) => ctx.fn(js, name, f);
  const get = (call: LuaCall, kind: SockKind): Entry => {
    const id = call.number(1) ?? -1;
    const r = ctx.request(call);
    return guard(call, () => reg.get(id, kind, r));
  };
  /** The TCP socket for a connect: made anew for the running request when it belongs to another (nginx binds a socket to the request that connects it). */
  const tcpOf = (call: LuaCall): TcpCosocket => {
    const e = get(call, 'tcp');
    const r = ctx.request(call);
    if (e.ngx !== r) {
      e.sock = guard(call, () => r.socket.tcp());
      e.ngx = r;
    }
    return e.sock as TcpCosocket;
  };

  fn('tcp_new', (call) => {
    const r = ctx.request(call);
    const level = call.boolean(1) ? 1 : 0;
    let sock: TcpCosocket;
    try {
      sock = r.socket.tcp();
    } catch (err) {
      return call.raiseError((err as Error).message, level);
    }
    call.pushNumber(reg.add(sock, r, 'tcp'));
    return 1;
  });
  fn('udp_new', (call) => {
    const r = ctx.request(call);
    let sock: UdpCosocket;
    try {
      sock = r.socket.udp();
    } catch (err) {
      return call.raiseError((err as Error).message, 0);
    }
    call.pushNumber(reg.add(sock, r, 'udp'));
    return 1;
  });
  fn('req_socket', (call) => {
    const r = ctx.request(call);
    const raw = call.boolean(1);
    let got: ReturnType<typeof r.req.socket>;
    try {
      got = r.req.socket(raw);
    } catch (err) {
      // A C function's error in OpenResty: no position.
      return call.raiseError((err as Error).message, 0);
    }
    if (got[0] === null) {
      call.pushNil();
      call.pushString(got[1]);
      return 2;
    }
    call.pushNumber(reg.add(got[0], r, 'req'));
    return 1;
  });
  fn('release', (call) => {
    const ids: number[] = [];
    for (let i = 1; i <= call.argCount; i++) ids.push(call.number(i) ?? -1);
    reg.release(ids);
    return 0;
  });

  fn('connect', (call) => {
    const r = ctx.request(call);
    guard(call, () => checkSocketApi(r));
    const sock = tcpOf(call);
    const host = call.string(2) as string;
    const port = call.number(3);
    const options: Parameters<TcpCosocket['connect']>[2] = {};
    const pool = call.string(4);
    if (pool !== undefined) options.pool = pool;
    const size = call.number(5);
    if (size !== undefined) options.poolSize = size;
    const backlog = call.number(6);
    if (backlog !== undefined) options.backlog = backlog;
    return reply(call, sock.connect(host, port, options));
  });
  fn('sslhandshake', (call) => {
    const r = ctx.request(call);
    guard(call, () => checkSocketApi(r));
    const e = get(call, 'tcp');
    const sock = e.sock as TcpCosocket & { everConnected?: boolean };
    if (sock.everConnected !== true) return call.raiseError('socket is never created nor connected', 0);
    const session = call.type(2) === 'string' ? Buffer.from(call.bytes(2) as Uint8Array) : call.type(2) === 'boolean' ? false : undefined;
    const name = call.string(3);
    return reply(call, sock.sslHandshake({ reusedSession: session, serverName: name, verify: call.boolean(4), requestOcsp: call.boolean(5) }));
  });
  fn('send', (call) => {
    const e = get(call, call.boolean(3) ? 'req' : 'tcp');
    if (e.kind !== 'req') guard(call, () => checkSocketApi(ctx.request(call)));
    const data = call.bytes(2) as Uint8Array;
    const sock = e.sock as TcpCosocket;
    return reply(call, sock.send(data));
  });
  fn('receive', (call) => {
    const e = get(call, call.boolean(3) ? 'req' : 'tcp');
    const t = call.type(2);
    const p: ReadPattern = t === 'string' ? (call.string(2) as '*l' | '*a') : t === 'number' ? (call.number(2) as number) : '*l';
    return reply(call, (e.sock as TcpCosocket).receive(p));
  });
  fn('receiveany', (call) => {
    const e = get(call, call.boolean(3) ? 'req' : 'tcp');
    return reply(call, (e.sock as TcpCosocket).receiveAny(call.number(2) as number));
  });
  fn('until_new', (call) => {
    const e = get(call, call.boolean(4) ? 'req' : 'tcp');
    const pat = call.bytes(2) as Uint8Array;
    const made = (e.sock as TcpCosocket).receiveUntil(pat, { inclusive: call.boolean(3) });
    if (made[0] === null) {
      call.pushNil();
      call.pushString(made[1]);
      return 2;
    }
    call.pushNumber(reg.addIterator(made[0], e.ngx));
    return 1;
  });
  fn('until_read', (call) => {
    const it = reg.iterator(call.number(1) ?? -1);
    const size = call.number(2);
    return reply(call, it(size));
  });
  fn('settimeouts', (call) => {
    const e = get(call, (call.string(5) ?? 'tcp') as SockKind);
    const c = call.number(2) as number;
    const s = call.number(3) as number;
    const r = call.number(4) as number;
    if (s === -1) (e.sock as { setTimeout(ms: number): void }).setTimeout(c);
    else (e.sock as TcpCosocket).setTimeouts(c, s, r);
    return 0;
  });
  fn('setkeepalive', (call) => {
    const sock = get(call, 'tcp').sock as TcpCosocket;
    const timeout = call.number(2);
    const size = call.number(3);
    return reply(call, sock.setKeepalive(timeout, size));
  });
  fn('getreusedtimes', (call) => reply(call, (get(call, 'tcp').sock as TcpCosocket).getReusedTimes()));
  fn('close', (call) => reply(call, (get(call, call.boolean(2) ? 'udp' : 'tcp').sock as TcpCosocket).close()));
  fn('setoption', (call) => {
    const sock = get(call, 'tcp').sock as TcpCosocket & { everConnected?: boolean };
    if (sock.everConnected !== true) return call.raiseError('socket is never created nor connected', 0);
    return reply(call, sock.setOption(call.string(2) as string, call.value(3)));
  });
  fn('getoption', (call) => {
    const sock = get(call, 'tcp').sock as TcpCosocket & { everConnected?: boolean };
    if (sock.everConnected !== true) return call.raiseError('socket is never created nor connected', 0);
    return reply(call, sock.getOption(call.string(2) as string));
  });
  fn('udp_setpeername', (call) => {
    const r = ctx.request(call);
    guard(call, () => checkSocketApi(r));
    const e = get(call, 'udp');
    if (e.ngx !== r) {
      e.sock = guard(call, () => r.socket.udp());
      e.ngx = r;
    }
    return reply(call, (e.sock as UdpCosocket).setPeerName(call.string(2) as string, call.number(3)));
  });
  fn('udp_send', (call) => reply(call, (get(call, 'udp').sock as UdpCosocket).send(call.bytes(2) as Uint8Array)));
  fn('udp_receive', (call) => reply(call, (get(call, 'udp').sock as UdpCosocket).receive(call.number(2))));

  const [tcpMt] = vm.run(SOCKET_LUA, 'ngx.socket', ngx, js);
  const [setmetatable] = vm.run('return setmetatable', 'ngx.socket');
  const [connect] = vm.run(CONNECT_LUA, 'ngx.socket.connect', vm.getField(js, 'tcp_new') as LuaRef, tcpMt as LuaRef, setmetatable as LuaRef);
  const socket = vm.getField(ngx, 'socket') as LuaRef;
  vm.setField(socket, 'connect', connect ?? null);
}

/** The phase check every waiting socket call makes (a socket made in content, used in header_filter, fails there). */
function checkSocketApi(r: Ngx): void {
  checkRequestApi(r, 'ngx.socket.tcp');
}

/** Pushes a result tuple now, or yields until it is there. */
function reply(call: LuaCall, r: readonly unknown[] | Pending<readonly unknown[]>): number {
  if (Array.isArray(r)) return pushAll(call, r as readonly unknown[]);
  return call.yield(r, pushResumed);
}

/** One shared onResume for every waiting socket call: pushes the tuple the wait settled with. */
const pushResumed = (call: LuaCall, values: unknown): number => pushAll(call, values as readonly unknown[]);

function pushAll(call: LuaCall, values: readonly unknown[]): number {
  for (const v of values) {
    if (v === null || v === undefined) call.pushNil();
    else if (typeof v === 'number') call.pushNumber(v);
    else if (typeof v === 'string') call.pushString(v);
    else if (typeof v === 'boolean') call.pushBoolean(v);
    else if (v instanceof Uint8Array) call.pushBytes(v);
    else call.pushNil();
  }
  return values.length;
}
