// `server { listen; server_name; ssl_certificate*; location ...; rewrite-module directives }` →
// one virtual host: its names, listen addresses, certificate and locations.

import type { HandlerSpec } from '@phasekit/core';
import type { RuleInput } from '../modules/schema.js';
import { argv, checkDirective, fail } from './check.js';
import { applyInherited, finishLocation, mapLocation, ruleOf, type MapState, type MappedLocation } from './map-location.js';
import { luaPhaseOf, luaSpec } from './map-lua.js';
import type { Directive } from './parser.js';
import { childScope, OwnLists, type Scope } from './scope.js';

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
  readonly ssl: boolean;
  readonly defaultServer: boolean;
}

export interface MappedServer {
  serverName: string[];
  listen: ListenAddress[];
  ssl?: { certificate: string; certificateKey: string };
  sslCertificate?: HandlerSpec;
  locations: MappedLocation[];
}

const LISTEN_IGNORED = /^(http2|reuseport|deferred|bind|proxy_protocol|fastopen=.*|backlog=.*|rcvbuf=.*|sndbuf=.*|ipv6only=.*|so_keepalive=.*|setfib=.*|accept_filter=.*)$/;

/** `listen 127.0.0.1:8080 ssl default_server;`, `listen 8080;`, `listen [::1]:80;`, `listen localhost;`. */
export function parseListen(d: Directive): ListenAddress {
  const [addr, ...params] = argv(d) as [string, ...string[]];
  if (addr.startsWith('unix:')) fail(d, 'listening on a unix socket is not supported by phasekit');
  let host = '0.0.0.0';
  let port = 80;
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+))(?::(\d+))?$/.exec(addr);
  if (/^\d+$/.test(addr)) port = Number(addr);
  else if (m !== null) {
    host = m[1] ?? (m[2] === '*' ? '0.0.0.0' : (m[2] as string));
    if (m[3] !== undefined) port = Number(m[3]);
  } else fail(d, `invalid host in "${addr}" of the "listen" directive`);
  if (port > 65535) fail(d, `invalid port in "${addr}" of the "listen" directive`);
  let ssl = false;
  let defaultServer = false;
  for (const p of params) {
    if (p === 'ssl') ssl = true;
    else if (p === 'default_server' || p === 'default') defaultServer = true;
    else if (!LISTEN_IGNORED.test(p)) fail(d, `invalid parameter "${p}"`);
  }
  return { host, port, ssl, defaultServer };
}

export function mapServer(d: Directive, http: Scope, state: MapState): MappedServer {
  const scope = childScope(http);
  const own = new OwnLists();
  const server: MappedServer = { serverName: [], listen: [], locations: [] };
  const serverRules: RuleInput[] = [];
  const locations: Directive[] = [];
  let cert = state.httpSsl.certificate;
  let key = state.httpSsl.certificateKey;
  for (const c of d.block ?? []) {
    if (!checkDirective(c, 'server', state.ignored)) continue;
    const rule = ruleOf(c, 'server', state);
    if (rule !== undefined) {
      serverRules.push(rule);
      continue;
    }
    if (applyInherited(c, scope, own, state)) continue;
    const args = argv(c);
    switch (c.name) {
      case 'listen':
        server.listen.push(parseListen(c));
        break;
      case 'server_name':
        server.serverName.push(...args);
        break;
      case 'ssl_certificate':
        cert = args[0];
        break;
      case 'ssl_certificate_key':
        key = args[0];
        break;
      case 'location':
        locations.push(c);
        break;
      case 'lua_code_cache':
      case 'error_log':
      case 'client_body_buffer_size':
        if (!state.ignored.has(`${c.name} (below http)`)) state.ignored.set(`${c.name} (below http)`, { name: c.name, file: c.file, line: c.line, note: 'phasekit applies the http-level value to every location' });
        break;
      default:
        if (luaPhaseOf(c.name) === 'ssl_certificate') server.sslCertificate = luaSpec(c);
        else fail(c, `"${c.name}" directive is not allowed here`);
    }
  }
  // Locations see the server's settings as they stand after every directive of the server level.
  for (const l of locations) mapLocation(l, scope, serverRules, state, server.locations);
  if (!server.locations.some((l) => l.match === '/')) {
    // nginx serves a URI no location matches with the server's own settings (static files under root).
    const implicit: MappedLocation = { match: '/' };
    finishLocation(implicit, scope, serverRules, [], undefined);
    server.locations.push(implicit);
  }
  if (server.listen.length === 0) server.listen.push({ host: '0.0.0.0', port: 80, ssl: false, defaultServer: false });
  if (server.listen.some((l) => l.ssl)) {
    if (cert === undefined) fail(d, 'no "ssl_certificate" is defined for the listen ... ssl directive in this server');
    if (key === undefined) fail(d, `no "ssl_certificate_key" is defined for certificate "${cert}"`);
  }
  if (cert !== undefined && key !== undefined) server.ssl = { certificate: cert, certificateKey: key };
  return server;
}
