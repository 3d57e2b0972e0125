// Upstream peers and their selection: weighted round-robin (nginx's smooth algorithm),
// consistent hash on a variable, least connections; passive health (maxFails in failTimeout).

import { createHash } from 'node:crypto';

export interface PeerOptions {
  host: string;
  port: number;
  weight: number;
  maxFails: number;
  /** Seconds a peer stays out after maxFails failures (and the window they are counted in). */
  failTimeout: number;
  backup: boolean;
}

export class Peer {
  readonly host: string;
  readonly port: number;
  readonly address: string;
  readonly weight: number;
  readonly maxFails: number;
  readonly failTimeoutMs: number;
  readonly backup: boolean;
  /** Smooth weighted round-robin state. */
  currentWeight = 0;
  /** Requests in flight to this peer (least connections). */
  active = 0;
  fails = 0;
  /** When the first of the current failures happened (the failTimeout window). */
  firstFailAt = 0;
  /** Until when passive health keeps the peer out (ms since the epoch). */
  downUntil = 0;
  /** Set by active health checks; peers start healthy. */
  healthy = true;

  constructor(o: PeerOptions) {
    this.host = o.host;
    this.port = o.port;
    this.address = `${o.host.includes(':') ? `[${o.host}]` : o.host}:${o.port}`;
    this.weight = o.weight;
    this.maxFails = o.maxFails;
    this.failTimeoutMs = o.failTimeout * 1000;
    this.backup = o.backup;
  }

  usable(now: number): boolean {
    return this.healthy && (this.maxFails === 0 || now >= this.downUntil);
  }

  /** Passive health: maxFails failures within failTimeout take the peer out for failTimeout. */
  fail(now: number): void {
    if (this.maxFails === 0) return;
    if (this.fails === 0 || now - this.firstFailAt > this.failTimeoutMs) {
      this.fails = 0;
      this.firstFailAt = now;
    }
    if (++this.fails >= this.maxFails) {
      this.downUntil = now + this.failTimeoutMs;
      this.fails = 0;
    }
  }

  succeed(): void {
    this.fails = 0;
  }
}

export type Method = 'round-robin' | 'least-conn' | 'hash';

/** Parses "host:port", "[v6]:port" or "host" (port 80). */
export function parseAddress(address: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+))(?::(\d+))?$/.exec(address.trim());
  if (m === null) return undefined;
  const port = m[3] === undefined ? 80 : Number(m[3]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  // A host no URL can hold (127.0.0.256) can never be connected to.
  if (!URL.canParse(`http://${address.trim()}`)) return undefined;
  return { host: (m[1] ?? m[2]) as string, port };
}

/** Picks peers for one upstream. */
export class PeerSet {
  readonly primary: readonly Peer[];
  readonly backup: readonly Peer[];
  /** Primary peers first, then backups. */
  readonly all: readonly Peer[];
  readonly method: Method;
  #ring: { point: number; peer: Peer }[] | undefined;

  constructor(peers: readonly Peer[], method: Method) {
    this.primary = peers.filter((p) => !p.backup);
    this.backup = peers.filter((p) => p.backup);
    this.all = [...this.primary, ...this.backup];
    this.method = method;
  }

  /** The next peer not tried yet and usable now; backups only when no primary is left. */
  pick(now: number, tried: ReadonlySet<Peer>, hashKey?: string): Peer | undefined {
    return this.#pickFrom(this.primary, now, tried, hashKey) ?? this.#pickFrom(this.backup, now, tried, undefined);
  }

  #pickFrom(peers: readonly Peer[], now: number, tried: ReadonlySet<Peer>, hashKey: string | undefined): Peer | undefined {
    const candidates = peers.filter((p) => !tried.has(p) && p.usable(now));
    if (candidates.length === 0) return undefined;
    if (this.method === 'hash' && hashKey !== undefined && peers === this.primary) return this.#byHash(hashKey, tried, now);
    if (this.method === 'least-conn') {
      let best = candidates[0] as Peer;
      for (const p of candidates) if (p.active * best.weight < best.active * p.weight) best = p;
      return best;
    }
    // nginx's smooth weighted round-robin: raise every weight, take the largest, lower it by the total.
    let total = 0;
    let best: Peer | undefined;
    for (const p of candidates) {
      p.currentWeight += p.weight;
      total += p.weight;
      if (best === undefined || p.currentWeight > best.currentWeight) best = p;
    }
    (best as Peer).currentWeight -= total;
    return best;
  }

  /** Consistent hash (160 points per weight unit, as ketama): the same key keeps its peer while it is up. */
  #byHash(key: string, tried: ReadonlySet<Peer>, now: number): Peer | undefined {
    const ring = (this.#ring ??= buildRing(this.primary));
    const point = hash32(key);
    let lo = 0;
    let hi = ring.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((ring[mid] as { point: number }).point < point) lo = mid + 1;
      else hi = mid;
    }
    for (let i = 0; i < ring.length; i++) {
      const peer = (ring[(lo + i) % ring.length] as { peer: Peer }).peer;
      if (!tried.has(peer) && peer.usable(now)) return peer;
    }
    return undefined;
  }
}

function hash32(s: string): number {
  return createHash('md5').update(s).digest().readUInt32BE(0);
}

function buildRing(peers: readonly Peer[]): { point: number; peer: Peer }[] {
  const ring: { point: number; peer: Peer }[] = [];
  for (const peer of peers) {
    for (let i = 0; i < 160 * peer.weight; i++) ring.push({ point: hash32(`${peer.address}-${i}`), peer });
  }
  return ring.sort((a, b) => a.point - b.point);
}
