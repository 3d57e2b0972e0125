// Virtual hosts: several servers, each with its names, listen addresses and location table; the
// server for a request is chosen as nginx chooses it — by the address the connection came to,
// then by the Host name (exact, `*.wildcard`, `wildcard.*`, `~regex`), else the default server.

import type { LocationTable } from './location.js';

/** `127.0.0.1:8080`, `8080`, `[::1]:443 ssl default_server`: nginx's listen syntax (options after the address). */
export function parseListenEntry(entry: string): { host: string | undefined; port: number; defaultServer: boolean } | string {
  const [addr = '', ...flags] = entry.trim().split(/\s+/);
  const m = /^(?:(?:\[([^\]]+)\]|([^:[\]]+)):)?(\d+)$/.exec(addr) ?? /^(?:\[([^\]]+)\]|([^:[\]]+))()$/.exec(addr);
  if (m === null) return `bad listen address "${addr}": expected [host:]port`;
  const port = m[3] === '' ? 80 : Number(m[3]);
  if (port > 65535) return `bad listen port in "${addr}"`;
  for (const f of flags) if (!/^(ssl|default_server|default|http2)$/.test(f)) return `unknown listen option "${f}" (ssl, default_server)`;
  const host = m[1] ?? m[2];
  const wildcard = host === undefined || host === '*' || host === '0.0.0.0' || host === '::';
  return { host: wildcard ? undefined : host, port, defaultServer: flags.includes('default_server') || flags.includes('default') };
}

/** Checks a server_name entry; returns an error message, or undefined when it is valid. */
export function checkServerName(name: string): string | undefined {
  if (name.startsWith('~')) {
    try {
      new RegExp(name.slice(1).replace(/\(\?P</g, '(?<'), 'i');
    } catch (err) {
      return `bad server name regex: ${(err as Error).message}`;
    }
    return undefined;
  }
  const stars = name.split('*').length - 1;
  if (stars > 1 || (stars === 1 && !name.startsWith('*.') && !name.endsWith('.*'))) return `invalid server name "${name}": a wildcard is "*.example.com" or "www.example.*"`;
  return undefined;
}

export interface ServerSpec<T> {
  /** server_name entries. */
  readonly names: readonly string[];
  /** listen entries; none: every address. */
  readonly listen: readonly string[];
  readonly locations: LocationTable<T>;
}

/** One server as a request sees it. */
export interface VirtualServer<T> {
  /** $server_name: its first name ("" without one). */
  readonly name: string;
  readonly locations: LocationTable<T>;
}

interface Entry<T> {
  readonly server: VirtualServer<T>;
  readonly exact: ReadonlySet<string>;
  /** `*.example.com` / `.example.com` as the suffix `.example.com` (the latter also matches `example.com`). */
  readonly head: readonly { suffix: string; bare: boolean }[];
  /** `www.example.*` as the prefix `www.example.`. */
  readonly tail: readonly string[];
  readonly regexes: readonly RegExp[];
  readonly listen: readonly { host: string | undefined; port: number; defaultServer: boolean }[];
}

export class VirtualHosts<T> {
  readonly #entries: readonly Entry<T>[];
  /** The first server: what a request with no better match gets when no listen address decides. */
  readonly first: VirtualServer<T>;

  constructor(servers: readonly ServerSpec<T>[]) {
    if (servers.length === 0) throw new Error('VirtualHosts needs a server');
    this.#entries = servers.map((spec) => {
      const exact = new Set<string>();
      const head: { suffix: string; bare: boolean }[] = [];
      const tail: string[] = [];
      const regexes: RegExp[] = [];
      for (const raw of spec.names) {
        const n = raw.toLowerCase();
        if (n.startsWith('~')) regexes.push(new RegExp(raw.slice(1).replace(/\(\?P</g, '(?<'), 'i'));
        else if (n.startsWith('*.')) head.push({ suffix: n.slice(1), bare: false });
        else if (n.startsWith('.')) head.push({ suffix: n, bare: true });
        else if (n.endsWith('.*')) tail.push(n.slice(0, -1));
        else exact.add(n);
      }
      head.sort((a, b) => b.suffix.length - a.suffix.length);
      tail.sort((a, b) => b.length - a.length);
      const listen = spec.listen.map((l) => parseListenEntry(l)).filter((l): l is Exclude<typeof l, string> => typeof l !== 'string');
      return { server: { name: spec.names.find((n) => !n.startsWith('~')) ?? spec.names[0] ?? '', locations: spec.locations }, exact, head, tail, regexes, listen };
    });
    this.first = (this.#entries[0] as Entry<T>).server;
  }

  get size(): number {
    return this.#entries.length;
  }

  /** The server for a request to `host` (lower case, no port; "" without a Host) on `localAddress:localPort`. */
  select(host: string, localAddress: string, localPort: number): VirtualServer<T> {
    const entries = this.#entries;
    if (entries.length === 1) return this.first;
    const candidates = this.#candidates(localAddress.startsWith('::ffff:') ? localAddress.slice(7) : localAddress, localPort);
    const exact = candidates.find((e) => e.exact.has(host));
    if (exact !== undefined) return exact.server;
    let best: { entry: Entry<T>; len: number } | undefined;
    for (const e of candidates) {
      for (const h of e.head) {
        if ((host.endsWith(h.suffix) && host.length > h.suffix.length) || (h.bare && host === h.suffix.slice(1))) {
          if (best === undefined || h.suffix.length > best.len) best = { entry: e, len: h.suffix.length };
          break;
        }
      }
    }
    if (best !== undefined) return best.entry.server;
    for (const e of candidates) {
      for (const t of e.tail) {
        if (host.startsWith(t) && host.length > t.length && (best === undefined || t.length > best.len)) best = { entry: e, len: t.length };
      }
    }
    if (best !== undefined) return best.entry.server;
    const byRegex = candidates.find((e) => e.regexes.some((r) => r.test(host)));
    if (byRegex !== undefined) return byRegex.server;
    const fallback = candidates.find((e) => e.listen.some((l) => l.defaultServer && l.port === localPort)) ?? candidates[0];
    return (fallback ?? (entries[0] as Entry<T>)).server;
  }

  /** Servers listening where the connection came: a specific address beats a wildcard one; servers without `listen` take any. */
  #candidates(address: string, port: number): readonly Entry<T>[] {
    const specific = this.#entries.filter((e) => e.listen.some((l) => l.port === port && l.host === address));
    if (specific.length > 0) return specific;
    const matching = this.#entries.filter((e) => e.listen.length === 0 || e.listen.some((l) => l.port === port && l.host === undefined));
    return matching.length > 0 ? matching : this.#entries;
  }
}
