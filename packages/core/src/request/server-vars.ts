// nginx variables about the server, the connection and the time: $binary_remote_addr,
// $server_name, $hostname, $time_local, $time_iso8601, $request_id, $connections_*,
// $nginx_version, $remote_user, $request_length.

import { randomBytes } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import { hostname } from 'node:os';
import type { RequestState } from './state.js';

type Getter = (s: RequestState) => string | undefined;

/** Variables whose value is bytes: read from TypeScript as a "binary" (latin1) string. */
export const BINARY_VARS: ReadonlySet<string> = new Set(['binary_remote_addr', 'request_body']);

/** The nginx version phasekit answers as (nginx 1.22.1). */
export const NGINX_VERSION = '1.22.1';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number): string => String(n).padStart(2, '0');

/** "+0100": the local time zone offset as nginx prints it. */
function zone(d: Date, colon: boolean): string {
  const off = -d.getTimezoneOffset();
  const sign = off < 0 ? '-' : '+';
  const a = Math.abs(off);
  return `${sign}${pad(Math.floor(a / 60))}${colon ? ':' : ''}${pad(a % 60)}`;
}

/** nginx's $time_local: "17/Mar/2024:10:00:00 +0000" (local time). */
export function timeLocal(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getDate())}/${MONTHS[d.getMonth()]}/${d.getFullYear()}:${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} ${zone(d, false)}`;
}

/** nginx's $time_iso8601: "2024-03-17T10:00:00+00:00" (local time). */
export function timeIso8601(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}${zone(d, true)}`;
}

/** The 4 (IPv4) or 16 (IPv6) bytes of an address, as a latin1 string. */
export function binaryAddress(addr: string): string | undefined {
  if (isIPv4(addr)) return String.fromCharCode(...addr.split('.').map(Number));
  if (!isIPv6(addr)) return undefined;
  let text = addr;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  let tail: number[] = [];
  if (v4 !== null) {
    tail = (v4[1] as string).split('.').map(Number);
    text = text.slice(0, -(v4[1] as string).length) + '0:0';
  }
  const [head = '', rest] = text.split('::');
  const groups = (part: string | undefined): number[] => (part === undefined || part === '' ? [] : part.split(':').map((h) => parseInt(h, 16)));
  const h = groups(head);
  const t = groups(rest);
  const all = rest === undefined ? h : [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
  const bytes = all.flatMap((g) => [g >> 8, g & 0xff]);
  if (tail.length === 4) bytes.splice(12, 4, ...tail);
  return String.fromCharCode(...bytes);
}


/** The user name of a Basic Authorization header ($remote_user). */
function remoteUser(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const m = /^basic\s+(\S+)/i.exec(header);
  if (m === null) return undefined;
  const decoded = Buffer.from(m[1] as string, 'base64').toString('latin1');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : decoded.slice(0, colon);
}

/** Bytes of the request line, the header lines and the body read so far, as nginx counts $request_length. */
function requestLength(s: RequestState): number {
  const ex = s.exchange;
  let n = `${ex.method} ${s.requestUri} HTTP/${ex.httpVersion}\r\n`.length + 2;
  const raw = ex.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string;
    const value = raw[i + 1] as string;
    n += Buffer.byteLength(name) + 2 + Buffer.byteLength(value) + 2;
  }
  // the body counts once it has been read
  return n + (s.body?.byteLength ?? 0);
}

export function serverVars(requestHeader: (s: RequestState, name: string) => string | undefined): Record<string, Getter> {
  return {
    binary_remote_addr: (s) => binaryAddress(s.exchange.remoteAddress),
    server_name: (s) => s.gen.serverName,
    hostname: () => hostname(),
    time_local: (s) => timeLocal(s.engine.clock.now()),
    time_iso8601: (s) => timeIso8601(s.engine.clock.now()),
    // nginx 1.22 makes a new one at every read
    request_id: () => randomBytes(16).toString('hex'),
    // phasekit has no connection counts of its own: the requests in flight stand for the
    // connections (active = writing = those requests, none reading or waiting)
    connections_active: (s) => String(Math.max(1, s.gen.requests.size)),
    connections_reading: () => '0',
    connections_writing: (s) => String(Math.max(1, s.gen.requests.size)),
    connections_waiting: () => '0',
    nginx_version: () => NGINX_VERSION,
    remote_user: (s) => remoteUser(requestHeader(s, 'authorization')),
    request_length: (s) => String(requestLength(s)),
    realip_remote_addr: (s) => s.exchange.remoteAddress,
    realip_remote_port: (s) => String(s.exchange.remotePort),
    request_completion: () => '',
  };
}
