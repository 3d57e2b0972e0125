// Where `phasekit serve` listens: --listen, else every distinct `listen` of the config's servers
// (HTTPS where one says `ssl`, with the servers' certificates), else 127.0.0.1:8080.

import { resolve } from 'node:path';
import type { EngineConfig } from './engine.js';
import { readCertificate, type ServeCertificate } from './serve.js';

export interface Listener {
  readonly host: string;
  readonly port: number;
  /** HTTPS with these certificates (default first). */
  readonly tls: readonly ServeCertificate[] | undefined;
  /** server_name entries of the servers listening here (for the banner). */
  readonly names: readonly string[];
}

interface ServerLike {
  serverName?: string | string[] | undefined;
  listen?: string[] | undefined;
  ssl?: { certificate: string; certificateKey: string } | undefined;
}

/** `[host:]port [ssl] [default_server]`. */
function parseEntry(entry: string): { host: string; port: number; ssl: boolean; defaultServer: boolean } {
  const [addr = '', ...flags] = entry.trim().split(/\s+/);
  const m = /^(?:(?:\[([^\]]+)\]|([^:[\]]+)):)?(\d+)$/.exec(addr);
  const host = m?.[1] ?? m?.[2] ?? '0.0.0.0';
  return { host: host === '*' ? '0.0.0.0' : host, port: Number(m?.[3] ?? 80), ssl: flags.includes('ssl'), defaultServer: flags.includes('default_server') || flags.includes('default') };
}

/** The listeners of a config (empty when no server names a listen address). */
export function listenersOf(config: EngineConfig, prefix: string): Listener[] {
  const servers: ServerLike[] = [config as ServerLike, ...((config.servers ?? []) as ServerLike[])];
  const groups = new Map<string, { host: string; port: number; ssl: boolean; certs: ServeCertificate[]; names: string[] }>();
  for (const s of servers) {
    const names = s.serverName === undefined ? [] : typeof s.serverName === 'string' ? [s.serverName] : s.serverName;
    for (const entry of s.listen ?? []) {
      const l = parseEntry(entry);
      const key = `${l.host}:${l.port}`;
      let g = groups.get(key);
      if (g === undefined) {
        g = { host: l.host, port: l.port, ssl: false, certs: [], names: [] };
        groups.set(key, g);
      }
      g.ssl ||= l.ssl;
      g.names.push(...names);
      if (s.ssl !== undefined) {
        const cert = readCertificate(resolve(prefix, s.ssl.certificate), resolve(prefix, s.ssl.certificateKey), names);
        if (l.defaultServer) g.certs.unshift(cert);
        else g.certs.push(cert);
      }
    }
  }
  return [...groups.values()].map((g) => ({ host: g.host, port: g.port, tls: g.ssl ? g.certs : undefined, names: g.names }));
}
