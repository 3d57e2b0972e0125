// loadNginxConf(path): an OpenResty nginx.conf → the engine config phasekit serves, with the
// listen addresses, the directives it ignored, the error log and worker count it asked for.

import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { EngineConfig } from '@phasekit/core';
import { NginxConfError } from '../errors.js';
import type { NginxEngineKeys, NginxLocationKeys } from '../modules/schema.js';
import type { IgnoredDirective } from './check.js';
import { fileIncluder } from './include.js';
import { mapMain } from './map-http.js';
import type { ListenAddress, MappedServer } from './map-server.js';
import { parseConf, type IncludeReader } from './parser.js';

/** The engine config an nginx.conf maps to: core's keys with the nginx extension's. */
export type NginxEngineConfig = Omit<EngineConfig, 'locations'> & NginxEngineKeys & { locations: (EngineConfig['locations'][number] & NginxLocationKeys)[] };

/** One address to listen on, and the servers (virtual hosts) that answer there. */
export interface NginxListen extends ListenAddress {
  /** Certificates for TLS, the default server's first; `names` are its server_name entries (for SNI). */
  readonly certificates: readonly { readonly names: readonly string[]; readonly certificate: string; readonly certificateKey: string }[];
}

export interface NginxConf {
  /** Give it to phasekit's `createEngine` (which has the nginx extension built in). */
  readonly config: NginxEngineConfig;
  /** The nginx prefix: `*_by_lua_file`, `root`, log files and `$prefix` resolve under it. */
  readonly prefix: string;
  readonly file: string;
  /** Every distinct listen address. */
  readonly listen: readonly NginxListen[];
  /** Directives accepted without effect, once each (first place). */
  readonly ignored: readonly IgnoredDirective[];
  /** `error_log path level` (main or http level), when given. */
  readonly errorLog: { readonly path: string; readonly level: string } | undefined;
  /** worker_processes, when given. */
  readonly workers: number | 'auto' | undefined;
}

export interface LoadOptions {
  /** nginx's `-p`: default the folder of the config file. */
  prefix?: string;
}

/** Reads and maps an nginx.conf (includes resolved against its folder). Throws NginxConfError naming file:line. */
export function loadNginxConf(path: string, options: LoadOptions = {}): NginxConf {
  const file = resolve(path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new NginxConfError(`open() "${file}" failed (${(err as Error).message})`, file, 0, { cause: err });
  }
  return mapNginxConf(text, { file, prefix: options.prefix ?? dirname(file), include: fileIncluder(dirname(file)) });
}

/** Maps nginx.conf text (`file` names it in errors). */
export function mapNginxConf(text: string, options: { file?: string; prefix?: string; include?: IncludeReader } = {}): NginxConf {
  const file = options.file ?? 'nginx.conf';
  const prefix = resolve(options.prefix ?? process.cwd());
  const mapped = mapMain(parseConf(text, file, options.include), prefix);
  const config: Record<string, unknown> = { ...mapped.top };
  config.lua = { ...(config.lua as object | undefined), prefix };
  const servers = mapped.servers;
  const sslHandlers = new Set(servers.map((s) => s.sslCertificate).filter((h) => h !== undefined));
  if (sslHandlers.size > 1) {
    throw new NginxConfError('ssl_certificate_by_lua* in more than one server is not supported by phasekit (one handler serves every server)', file, 0);
  }
  const [ssl] = sslHandlers;
  if (ssl !== undefined) config.sslCertificate = ssl;
  const [first, ...rest] = servers;
  if (first === undefined) config.locations = [];
  else {
    Object.assign(config, serverKeys(first));
    if (rest.length > 0) config.servers = rest.map(serverKeys);
  }
  return { config: config as unknown as NginxEngineConfig, prefix, file, listen: listenGroups(servers), ignored: mapped.ignored, errorLog: mapped.errorLog, workers: mapped.workers };
}

/** `127.0.0.1:8080 ssl default_server`: the listen string core's server selection reads. */
export function listenString(l: ListenAddress): string {
  const host = l.host.includes(':') ? `[${l.host}]` : l.host;
  return `${host}:${l.port}${l.ssl ? ' ssl' : ''}${l.defaultServer ? ' default_server' : ''}`;
}

function serverKeys(s: MappedServer): Record<string, unknown> {
  const out: Record<string, unknown> = { listen: s.listen.map(listenString), locations: s.locations };
  if (s.serverName.length > 0) out.serverName = s.serverName;
  if (s.ssl !== undefined) out.ssl = s.ssl;
  return out;
}

function listenGroups(servers: readonly MappedServer[]): NginxListen[] {
  const groups = new Map<string, { address: ListenAddress; certificates: { names: string[]; certificate: string; certificateKey: string }[]; defaultFirst: boolean }>();
  for (const s of servers) {
    for (const l of s.listen) {
      const k = `${l.host}:${l.port}`;
      let g = groups.get(k);
      if (g === undefined) {
        g = { address: { host: l.host, port: l.port, ssl: false, defaultServer: false }, certificates: [], defaultFirst: false };
        groups.set(k, g);
      }
      if (l.ssl) g.address = { ...g.address, ssl: true };
      if (s.ssl !== undefined) {
        const entry = { names: s.serverName, ...s.ssl };
        // The default server's certificate answers a handshake without a matching name.
        if (l.defaultServer && !g.defaultFirst) {
          g.certificates.unshift(entry);
          g.defaultFirst = true;
        } else g.certificates.push(entry);
      }
    }
  }
  return [...groups.values()].map((g) => ({ ...g.address, certificates: g.certificates }));
}
