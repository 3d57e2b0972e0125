// nginx variables for ngx.var: built-ins computed on read, declared ones stored per request.

import { rawArg } from '../text/args.js';
import { formatNumber } from '../text/number.js';
import { UnknownVariableError } from '../errors.js';
import { headerKey } from '../http/headers.js';
import type { RequestState, Template } from './state.js';
import { serverVars } from './server-vars.js';

type Getter = (s: RequestState) => string | undefined;

/** The first value of a request header (nginx 1.22 gives only the first of repeated ones). */
function requestHeader(s: RequestState, name: string): string | undefined {
  const changed = s.reqHeaders?.get(name);
  if (changed !== undefined) return Array.isArray(changed.value) ? changed.value[0] : changed.value;
  const raw = s.exchange.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const n = raw[i] as string;
    if (n.length === name.length && n.toLowerCase() === name) return raw[i + 1];
  }
  return undefined;
}

/**
 * Every value of a request header joined, as nginx 1.22 gives `$http_cookie` (`; `) and
 * `$http_x_forwarded_for` (`, `).
 */
function joinedHeader(s: RequestState, name: string, sep: string): string | undefined {
  const changed = s.reqHeaders?.get(name);
  if (changed !== undefined) return Array.isArray(changed.value) ? changed.value.join(sep) : changed.value;
  const raw = s.exchange.rawHeaders;
  let out: string | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const n = raw[i] as string;
    if (n.length === name.length && n.toLowerCase() === name) out = out === undefined ? raw[i + 1] : `${out}${sep}${raw[i + 1]}`;
  }
  return out;
}

/** Headers whose variable joins repeated values, and the separator. */
const JOINED: Readonly<Record<string, string>> = { cookie: '; ', 'x-forwarded-for': ', ' };

/** `$request_body`: the body when it was read into memory (a temp file gives nil), as bytes. */
function requestBody(s: RequestState): string | undefined {
  const b = s.body;
  return b === undefined ? undefined : Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
}

const secondsSince = (s: RequestState) => ((s.endTime || s.engine.clock.now()) - s.start) / 1000;

const BUILTIN: Record<string, Getter> = {
  uri: (s) => s.uri,
  document_uri: (s) => s.uri,
  args: (s) => (s.args === '' ? undefined : s.args),
  query_string: (s) => (s.args === '' ? undefined : s.args),
  is_args: (s) => (s.args === '' ? '' : '?'),
  request_uri: (s) => s.requestUri,
  request_method: (s) => s.method,
  request: (s) => `${s.exchange.method} ${s.requestUri} HTTP/${s.exchange.httpVersion}`,
  server_protocol: (s) => `HTTP/${s.exchange.httpVersion}`,
  scheme: (s) => (s.exchange.secure ? 'https' : 'http'),
  https: (s) => (s.exchange.secure ? 'on' : ''),
  remote_addr: (s) => s.exchange.remoteAddress,
  remote_port: (s) => String(s.exchange.remotePort),
  server_addr: (s) => s.exchange.localAddress,
  server_port: (s) => String(s.exchange.localPort),
  host: (s) => {
    const h = requestHeader(s, 'host');
    // nginx falls back to the server_name (phasekit: the server address when serverName is not set)
    if (h === undefined || h === '') return s.gen.serverName !== '' ? s.gen.serverName : s.exchange.localAddress;
    const end = h.startsWith('[') ? h.indexOf(']') + 1 : h.indexOf(':');
    return (end > 0 ? h.slice(0, end) : h).toLowerCase();
  },
  content_type: (s) => requestHeader(s, 'content-type'),
  content_length: (s) => requestHeader(s, 'content-length'),
  request_body: requestBody,
  status: (s) => String(s.status).padStart(3, '0'),
  request_time: (s) => secondsSince(s).toFixed(3),
  msec: (s) => (s.engine.clock.now() / 1000).toFixed(3),
  bytes_sent: (s) => String(s.bytesSent),
  body_bytes_sent: (s) => String(s.bodyBytesSent),
  pid: () => String(process.pid),
  upstream_addr: (s) => s.upstreamLog?.addr.join(', '),
  upstream_status: (s) => s.upstreamLog?.status.join(', '),
  upstream_response_time: (s) => s.upstreamLog?.responseTime.join(', '),
  upstream_connect_time: (s) => s.upstreamLog?.connectTime.join(', '),
  upstream_header_time: (s) => s.upstreamLog?.headerTime.join(', '),
  ...serverVars(requestHeader),
};

/** Built-ins that ngx.var may assign, besides declared variables. */
const WRITABLE: Record<string, (s: RequestState, v: string) => void> = {
  args: (s, v) => {
    s.args = v;
  },
};

/** Reads `$name` (names are case-insensitive, as in nginx). */
export function readVar(s: RequestState, rawName: string): string | undefined {
  const name = rawName.toLowerCase();
  const declared = s.vars;
  if (declared !== undefined && declared.has(name)) return declared.get(name);
  const builtin = BUILTIN[name];
  if (builtin !== undefined) return builtin(s);
  if (name.startsWith('arg_')) return rawArg(s.args, name.slice(4));
  if (name.startsWith('http_')) {
    const key = headerKey(name.slice(5));
    const sep = JOINED[key];
    return sep === undefined ? requestHeader(s, key) : joinedHeader(s, key, sep);
  }
  if (name.startsWith('cookie_')) return cookie(joinedHeader(s, 'cookie', '; '), name.slice(7));
  if (name.startsWith('sent_http_')) {
    const v = s.headers?.get(name.slice(10));
    return Array.isArray(v) ? v.join(', ') : v;
  }
  const caps = s.captures;
  if (caps !== undefined) {
    // $1..$9; $0 (the whole match) is not a variable in nginx
    if (/^[1-9]$/.test(name)) return caps[Number(name)];
    const named = caps.groups?.[rawName];
    if (named !== undefined) return named;
  }
  if (isDeclared(s, name)) {
    // declared somewhere, never set for this request: "" with nginx's warning
    s.engine.log('warn', `using uninitialized "${rawName}" variable`, s);
    return '';
  }
  return undefined;
}

/** Whether `$name` (lower-cased) is a variable some location declares (`vars`, `set`). */
export function isDeclared(s: RequestState, name: string): boolean {
  const loc = s.location;
  return s.gen.declaredVars.has(name) || loc.vars.has(name) || loc.set.some((x) => x.var.toLowerCase() === name);
}

/** Assigns `$name`; only declared variables and a few built-ins may be written. */
export function writeVar(s: RequestState, rawName: string, value: unknown): void {
  const name = rawName.toLowerCase();
  const str = value === null || value === undefined ? undefined : String(value);
  if (s.vars?.has(name) || isDeclared(s, name)) {
    (s.vars ??= new Map()).set(name, str);
    return;
  }
  const w = WRITABLE[name];
  if (w === undefined) throw new UnknownVariableError(rawName, BUILTIN[name] !== undefined);
  w(s, str ?? '');
}

/**
 * Runs the location's `vars` (nginx's `set $name value` directives) at the start of its walk:
 * values set earlier in the request (before an exec, by a capture's `vars`) stay unless the
 * location sets them again.
 */
export function applyLocationVars(s: RequestState): void {
  const declared = s.location.vars;
  if (declared.size === 0) return;
  const vars = (s.vars ??= new Map());
  for (const [name, template] of declared) vars.set(name, interpolate(s, template));
}

/** Expands a template: literal text and `$var` references. */
export function interpolate(s: RequestState, template: Template): string {
  if (template.length === 1 && typeof template[0] === 'string') return template[0];
  let out = '';
  for (const part of template) out += typeof part === 'string' ? part : (readVar(s, part.ref) ?? '');
  return out;
}

/** A set handler's arg: as interpolate, but a lone variable that is not found is undefined (nil in Lua). */
export function interpolateArg(s: RequestState, template: Template): string | undefined {
  const only = template.length === 1 ? template[0] : undefined;
  return only !== undefined && typeof only !== 'string' ? readVar(s, only.ref) : interpolate(s, template);
}

/** What a set handler's result stores: a string as is, a number formatted, anything else "". */
export function setResult(value: unknown): string {
  return typeof value === 'string' ? value : typeof value === 'number' ? formatNumber(value) : '';
}

/** `"a $arg_x ${http_host}b"` → parts. `$$` is not special in nginx either. */
export function parseTemplate(text: string): Template {
  const parts: (string | { ref: string })[] = [];
  const re = /\$(?:\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+))/g;
  let last = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    if (m.index > last) parts.push(text.slice(last, m.index));
    parts.push({ ref: (m[1] ?? m[2]) as string });
    last = m.index + m[0].length;
  }
  if (last < text.length || parts.length === 0) parts.push(text.slice(last));
  return parts;
}

function cookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim().toLowerCase() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
