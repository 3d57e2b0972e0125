// The engine's cosocket state: default timeouts and pool size (lua_socket_* directives), the
// connection pools (per engine, as nginx's are per worker), and every open socket, so that
// engine.close() closes them all.

import type { LookupFunction } from 'node:net';
import type { Clock } from '../clock.js';
import type { LogLevel } from '../ngx/constants.js';
import { SocketPools } from './pool.js';

/** Something that holds a connection: closed when its request ends or the engine closes. */
export interface Closable {
  destroy(): void;
}

export interface CosocketDefaults {
  /** ms (lua_socket_connect_timeout, default 60s). */
  connectTimeout: number;
  sendTimeout: number;
  readTimeout: number;
  /** ms an idle pooled connection is kept (lua_socket_keepalive_timeout, default 60s). */
  keepaliveTimeout: number;
  /** Idle connections per pool (lua_socket_pool_size, default 30). */
  poolSize: number;
  /** Log socket failures at error level (lua_socket_log_errors, default on). */
  logErrors: boolean;
  /** PEM of the CAs sslhandshake verifies against (lua_ssl_trusted_certificate); undefined: Node's bundled roots. */
  trustedCertificates: string | undefined;
}

export const COSOCKET_DEFAULTS: Readonly<CosocketDefaults> = Object.freeze({
  connectTimeout: 60_000,
  sendTimeout: 60_000,
  readTimeout: 60_000,
  keepaliveTimeout: 60_000,
  poolSize: 30,
  logErrors: true,
  trustedCertificates: undefined,
});

export class Cosockets {
  readonly clock: Clock;
  readonly pools: SocketPools;
  /** Host name resolution for connects (undefined: Node's default). */
  readonly lookup: LookupFunction | undefined;
  defaults: CosocketDefaults = { ...COSOCKET_DEFAULTS };
  /** Every connected cosocket of the engine (idle pooled ones are the pools'). */
  readonly live = new Set<Closable>();
  #closed = false;

  constructor(clock: Clock, lookup?: LookupFunction) {
    this.clock = clock;
    this.lookup = lookup;
    this.pools = new SocketPools(clock);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Closes every pooled and every open connection; later connects fail with "closed". */
  closeAll(): void {
    this.#closed = true;
    this.pools.closeAll();
    for (const c of [...this.live]) c.destroy();
    this.live.clear();
  }
}

/** Where a cosocket belongs: a request (or a timer's run), whose end closes what it left open. */
export interface SocketScope {
  readonly hub: Cosockets;
  /** Connections opened here and not yet closed or pooled. */
  readonly open: Set<Closable>;
  /** An error-log line for this request (lua_socket_log_errors). */
  log(level: LogLevel, message: string): void;
}

/** Closes what a scope left open (its request ended). */
export function closeScope(scope: SocketScope): void {
  for (const c of [...scope.open]) c.destroy();
  scope.open.clear();
}
