// Compiled upstreams of one engine generation: peers, connection pools (undici), health checks.

import { Pool, request } from 'undici';
import type { ProxyOptions, UpstreamConfig } from '../engine/config.js';
import type { CompiledHandler } from '../engine/script-runtime.js';
import type { Template } from '../request/state.js';
import { parseTemplate } from '../request/vars.js';
import { parseAddress, Peer, PeerSet } from './peers.js';

export interface CompiledUpstream {
  readonly name: string;
  readonly peers: PeerSet;
  readonly balancer: CompiledHandler | undefined;
  readonly hash: Template | undefined;
  readonly keepalive: number;
  /** One undici Pool per peer address (keepalive connections live there). */
  readonly pools: Map<string, Pool>;
  /** Peers a balancer handler named that are not in `servers`. */
  readonly extraPeers: Map<string, Peer>;
}

export interface ProxyTarget {
  /** The proxyPass URL, with variables. */
  readonly template: Template;
  /** The URL has a path part (`http://up/v2/`): it replaces the location's prefix. */
  readonly withPath: boolean;
  /** The URL has variables: its path part, when the value has one, is the whole URI sent (nginx). */
  readonly dynamic: boolean;
  readonly setHeaders: readonly (readonly [name: string, value: Template])[];
  /** proxy_next_upstream conditions (`error`, `timeout`, `http_502`, ...). */
  readonly next: ReadonlySet<string>;
  readonly readMs: number;
  readonly connectMs: number;
  readonly options: ProxyOptions;
}

export function compileProxy(proxyPass: string, options: ProxyOptions = {}): ProxyTarget {
  const template = parseTemplate(proxyPass);
  return {
    template,
    withPath: /^https?:\/\/[^/]+\//.test(proxyPass),
    dynamic: template.some((part) => typeof part !== 'string'),
    setHeaders: Object.entries(options.setHeaders ?? {}).map(([k, v]) => [k, parseTemplate(v)] as const),
    next: new Set(options.nextUpstream ?? ['error', 'timeout']),
    readMs: (options.readTimeout ?? 60) * 1000,
    connectMs: (options.connectTimeout ?? 60) * 1000,
    options,
  };
}

export function compileUpstream(name: string, config: UpstreamConfig, balancer: CompiledHandler | undefined): CompiledUpstream {
  const peers = (config.servers ?? []).map((server) => {
    const o = typeof server === 'string' ? { address: server } : server;
    const addr = parseAddress(o.address);
    if (addr === undefined) throw new Error(`upstreams.${name}: bad server address "${o.address}"`);
    return new Peer({ ...addr, weight: o.weight ?? 1, maxFails: o.maxFails ?? 1, failTimeout: o.failTimeout ?? 10, backup: o.backup ?? false });
  });
  return {
    name,
    peers: new PeerSet(peers, config.method ?? (config.hash !== undefined ? 'hash' : 'round-robin')),
    balancer,
    hash: config.hash === undefined ? undefined : parseTemplate(config.hash),
    keepalive: config.keepalive ?? 32,
    pools: new Map(),
    extraPeers: new Map(),
  };
}

/** An upstream for a proxyPass URL that names a host:port directly. */
export function directUpstream(address: string): CompiledUpstream | undefined {
  const addr = parseAddress(address);
  if (addr === undefined) return undefined;
  return {
    name: address,
    peers: new PeerSet([new Peer({ ...addr, weight: 1, maxFails: 0, failTimeout: 10, backup: false })], 'round-robin'),
    balancer: undefined,
    hash: undefined,
    keepalive: 32,
    pools: new Map(),
    extraPeers: new Map(),
  };
}

export function poolFor(upstream: CompiledUpstream, peer: Peer, connectTimeoutMs: number): Pool {
  let pool = upstream.pools.get(peer.address);
  if (pool === undefined) {
    pool = new Pool(`http://${peer.address}`, {
      connections: upstream.keepalive > 0 ? null : 1,
      pipelining: 1,
      keepAliveTimeout: upstream.keepalive > 0 ? 60_000 : 1,
      connect: { timeout: connectTimeoutMs },
    });
    upstream.pools.set(peer.address, pool);
  }
  return pool;
}

/**
 * How many proxyPass hosts without a named upstream (per generation), and peers a balancer names
 * beyond `servers` (per upstream), keep a connection pool. Past it the least recently used one is
 * closed (its requests in flight finish first), so variables in proxyPass cannot grow memory without end.
 */
export const MAX_DYNAMIC_TARGETS = 256;

/** The entry for `key` of a map kept in least-recently-used order (Map insertion order), marked used. */
export function lruGet<K, V>(map: Map<K, V>, key: K): V | undefined {
  const value = map.get(key);
  if (value !== undefined) {
    map.delete(key);
    map.set(key, value);
  }
  return value;
}

/** Adds an entry to such a map; past `max` entries the oldest goes to `evict`. */
export function lruSet<K, V>(map: Map<K, V>, key: K, value: V, evict: (value: V, key: K) => void, max = MAX_DYNAMIC_TARGETS): void {
  map.set(key, value);
  while (map.size > max) {
    const [oldKey, oldValue] = map.entries().next().value as [K, V];
    map.delete(oldKey);
    evict(oldValue, oldKey);
  }
}

/** Closes a pool without waiting; requests already on it finish. */
export function dropPool(upstream: CompiledUpstream, address: string): void {
  const pool = upstream.pools.get(address);
  if (pool === undefined) return;
  upstream.pools.delete(address);
  pool.close().catch(() => undefined);
}

export async function closeUpstreams(upstreams: Iterable<CompiledUpstream>): Promise<void> {
  const closing: Promise<void>[] = [];
  for (const u of upstreams) for (const pool of u.pools.values()) closing.push(pool.close().catch(() => undefined));
  await Promise.all(closing);
}

export interface HealthHost {
  now(): number;
  schedule(fn: () => void, ms: number): () => void;
  report(upstream: string, peer: Peer, healthy: boolean): void;
}

/**
 * Active health checks (beyond OpenResty core): GET `path` on every peer each `interval`;
 * `unhealthy` failures in a row take a peer out, `healthy` successes bring it back.
 * Returns a function that stops them.
 */
export function startHealthChecks(upstream: CompiledUpstream, config: NonNullable<UpstreamConfig['healthCheck']>, host: HealthHost): () => void {
  const path = config.path ?? '/';
  const timeout = (config.timeout ?? 1) * 1000;
  const needOk = config.healthy ?? 2;
  const needBad = config.unhealthy ?? 2;
  const okStatus = (status: number) => (config.statuses === undefined ? status >= 200 && status < 400 : config.statuses.includes(status));
  const streaks = new Map<Peer, { ok: number; bad: number }>();
  let stopped = false;
  let cancel = () => undefined as void;
  const check = async (peer: Peer) => {
    let ok = false;
    try {
      const res = await request(`http://${peer.address}${path}`, { headersTimeout: timeout, bodyTimeout: timeout, signal: AbortSignal.timeout(timeout) });
      await res.body.dump();
      ok = okStatus(res.statusCode);
    } catch {
      ok = false;
    }
    if (stopped) return;
    const streak = streaks.get(peer) ?? { ok: 0, bad: 0 };
    streaks.set(peer, streak);
    if (ok) {
      streak.ok++;
      streak.bad = 0;
      if (!peer.healthy && streak.ok >= needOk) {
        peer.healthy = true;
        host.report(upstream.name, peer, true);
      }
    } else {
      streak.bad++;
      streak.ok = 0;
      if (peer.healthy && streak.bad >= needBad) {
        peer.healthy = false;
        host.report(upstream.name, peer, false);
      }
    }
  };
  const round = () => {
    if (stopped) return;
    void Promise.all(upstream.peers.all.map(check)).then(() => {
      if (!stopped) cancel = host.schedule(round, config.interval * 1000);
    });
  };
  cancel = host.schedule(round, 0);
  return () => {
    stopped = true;
    cancel();
  };
}
