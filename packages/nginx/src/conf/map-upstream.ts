// `upstream name { server ...; keepalive; hash | least_conn; balancer_by_lua* }` → an upstream config.

import type { EngineConfig } from '@phasekit/core';
import { argv, checkDirective, fail, type IgnoredDirective } from './check.js';
import { luaSpec } from './map-lua.js';
import type { Directive } from './parser.js';
import { parseTime } from './scope.js';

type UpstreamConfig = NonNullable<EngineConfig['upstreams']>[string];
type ServerEntry = NonNullable<UpstreamConfig['servers']>[number];

export function mapUpstream(d: Directive, ignored: Map<string, IgnoredDirective>): UpstreamConfig {
  const up: UpstreamConfig = {};
  const servers: ServerEntry[] = [];
  let downs = 0;
  for (const c of d.block ?? []) {
    if (!checkDirective(c, 'upstream', ignored)) continue;
    const args = argv(c);
    switch (c.name) {
      case 'server': {
        const entry = serverEntry(c, args);
        if (entry === undefined) downs++;
        else servers.push(entry);
        break;
      }
      case 'keepalive':
        up.keepalive = count(c, args[0] as string);
        break;
      case 'least_conn':
        up.method = 'least-conn';
        break;
      case 'hash':
        if (args[1] !== undefined && args[1] !== 'consistent') fail(c, `invalid parameter "${args[1]}"`);
        up.method = 'hash';
        up.hash = args[0] as string;
        break;
      default:
        if (c.name.startsWith('balancer_by_lua')) up.balancer = luaSpec(c);
        else fail(c, `"${c.name}" directive is not allowed here`);
    }
  }
  if (servers.length === 0 && up.balancer === undefined) fail(d, downs > 0 ? `every server of upstream "${argv(d)[0]}" is down` : `no servers are inside upstream`);
  if (servers.length > 0) up.servers = servers;
  return up;
}

/** One `server` line; undefined for a server marked `down` (nginx never picks it). */
function serverEntry(c: Directive, args: string[]): ServerEntry | undefined {
  const [addr, ...params] = args as [string, ...string[]];
  if (addr.startsWith('unix:')) fail(c, 'unix-socket upstream servers are not supported by phasekit');
  const address = /:\d+$/.test(addr) && !addr.endsWith(']') ? addr : `${addr}:80`;
  const entry: Exclude<ServerEntry, string> = { address };
  for (const p of params) {
    const [key, value] = p.split('=', 2) as [string, string | undefined];
    if (key === 'down' && value === undefined) return undefined;
    if (key === 'backup' && value === undefined) entry.backup = true;
    else if (key === 'weight' && value !== undefined) entry.weight = Math.max(1, count(c, value));
    else if (key === 'max_fails' && value !== undefined) entry.maxFails = count(c, value);
    else if (key === 'fail_timeout' && value !== undefined) {
      const t = parseTime(value);
      if (t === undefined) fail(c, `invalid parameter "${p}"`);
      entry.failTimeout = t;
    } else if (key === 'max_conns' || key === 'slow_start' || key === 'resolve' || key === 'route' || key === 'service') {
      fail(c, `server parameter "${key}" is not supported by phasekit`);
    } else fail(c, `invalid parameter "${p}"`);
  }
  return Object.keys(entry).length === 1 ? address : entry;
}

function count(c: Directive, text: string): number {
  if (!/^\d+$/.test(text)) fail(c, `invalid number "${text}" in "${c.name}" directive`);
  return Number(text);
}
