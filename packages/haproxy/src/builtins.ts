// Built-in sample fetches and converters, with HAProxy's names and meanings (configuration.txt §7.3).

import { readFileSync } from 'node:fs';
import { phaseBitOf, phaseMask, type HeaderValue, type Ngx } from '@phasekit/core';
import { HaproxyRegistry } from './registry.js';
import type { Txn } from './types.js';

/** Phases where `hdr()` means the response's headers, as it does in HAProxy's http-response rules. */
const RESPONSE_PHASES = phaseMask('headerFilter', 'bodyFilter', 'log');

function values(record: Record<string, HeaderValue>, name: string): string[] {
  const v = record[name.toLowerCase()];
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** hdr() splits values at commas; fhdr() keeps whole lines. */
function commaValues(lines: readonly string[]): string[] {
  const out: string[] = [];
  for (const line of lines) for (const part of line.split(',')) out.push(part.trim());
  return out;
}

/** The `occ`-th occurrence: 1 is the first, -1 (and the default) the last. */
function occurrence(list: readonly string[], occ: string | undefined): string | undefined {
  const n = occ === undefined || occ === '' ? -1 : Number(occ);
  if (!Number.isInteger(n) || n === 0) return list[list.length - 1];
  return n > 0 ? list[n - 1] : list[list.length + n];
}

const reqHeaders = (ngx: Ngx) => ngx.req.getHeaders(0);
const resHeaders = (ngx: Ngx) => ngx.resp.getHeaders(0);

function varString(v: unknown): string | undefined {
  return v === undefined || v === null ? undefined : String(v);
}

function urlParam(query: string, name: string, delim: string): string | undefined {
  if (query === '') return undefined;
  for (const part of query.split(delim)) {
    const eq = part.indexOf('=');
    const key = eq === -1 ? part : part.slice(0, eq);
    if (key === name) return eq === -1 ? '' : part.slice(eq + 1);
  }
  return undefined;
}

function requestBody(txn: Txn): string | undefined {
  const req = txn.ngx.req;
  const data = req.getBodyData();
  if (data !== undefined) return data;
  const file = req.getBodyFile();
  return file === undefined ? undefined : readFileSync(file, 'utf8');
}

/** url_dec: %XX as UTF-8 bytes; `+` is a space in a form (or after `?`). Bad escapes stay as written. */
function urlDecode(value: string, inForm: boolean): string {
  const bytes: number[] = [];
  let query = inForm;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x25 /* % */ && /^[0-9a-fA-F]{2}$/.test(value.slice(i + 1, i + 3))) {
      bytes.push(parseInt(value.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (c === 0x2b /* + */ && query) {
      bytes.push(0x20);
    } else {
      if (c === 0x3f /* ? */) query = true;
      for (const b of Buffer.from(value[i] as string)) bytes.push(b);
    }
  }
  return Buffer.from(bytes).toString();
}

const JSON_ESCAPES: Record<string, string> = { '"': '\\"', '\\': '\\\\', '/': '\\/', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** json: an ASCII string ready to sit between JSON quotes. */
function jsonEscape(value: string): string {
  let out = '';
  for (const ch of value) {
    const esc = JSON_ESCAPES[ch];
    if (esc !== undefined) {
      out += esc;
      continue;
    }
    const code = ch.codePointAt(0) as number;
    if (code >= 0x20 && code < 0x7f) out += ch;
    else if (code <= 0xffff) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else for (let i = 0; i < ch.length; i++) out += `\\u${ch.charCodeAt(i).toString(16).padStart(4, '0')}`;
  }
  return out;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The built-ins every engine has; the layer TypeScript and Lua registrations stack on. */
export function builtinRegistry(): HaproxyRegistry {
  const r = new HaproxyRegistry();
  const f = r.addBuiltinFetch.bind(r);
  f('method', (txn) => txn.ngx.req.getMethod(), 0, 0);
  f('path', (txn) => varString(txn.ngx.var.uri), 0, 0);
  f('query', (txn) => varString(txn.ngx.var.args), 0, 0);
  f('url', (txn) => {
    const args = varString(txn.ngx.var.args);
    return `${String(txn.ngx.var.uri)}${args === undefined ? '' : `?${args}`}`;
  }, 0, 0);
  f('url_param', (txn, name, delim) => urlParam(varString(txn.ngx.var.args) ?? '', name as string, delim || '&'), 1, 2);
  f('req.hdr', (txn, name, occ) => occurrence(commaValues(values(reqHeaders(txn.ngx), name as string)), occ), 1, 2);
  f('req.fhdr', (txn, name, occ) => occurrence(values(reqHeaders(txn.ngx), name as string), occ), 1, 2);
  f('res.hdr', (txn, name, occ) => occurrence(commaValues(values(resHeaders(txn.ngx), name as string)), occ), 1, 2);
  f('res.fhdr', (txn, name, occ) => occurrence(values(resHeaders(txn.ngx), name as string), occ), 1, 2);
  f('hdr', (txn, name, occ) => {
    const headers = (phaseBitOf(txn.ngx) & RESPONSE_PHASES) !== 0 ? resHeaders(txn.ngx) : reqHeaders(txn.ngx);
    return occurrence(commaValues(values(headers, name as string)), occ);
  }, 1, 2);
  f('src', (txn) => varString(txn.ngx.var.remote_addr), 0, 0);
  f('src_port', (txn) => varString(txn.ngx.var.remote_port), 0, 0);
  f('dst', (txn) => varString(txn.ngx.var.server_addr), 0, 0);
  f('dst_port', (txn) => varString(txn.ngx.var.server_port), 0, 0);
  f('req.ver', (txn) => String(txn.ngx.req.httpVersion()), 0, 0);
  f('req.body', requestBody, 0, 0);
  f('status', (txn) => String(txn.ngx.status), 0, 0);
  f('var', (txn, name) => varString(txn.getVar(name as string)), 1, 1);

  const c = r.addBuiltinConverter.bind(r);
  // HAProxy changes case byte by byte in the C locale: ASCII letters only.
  c('lower', (v) => v.replace(/[A-Z]+/g, (m) => m.toLowerCase()), 0, 0);
  c('upper', (v) => v.replace(/[a-z]+/g, (m) => m.toUpperCase()), 0, 0);
  c('base64', (v) => Buffer.from(v).toString('base64'), 0, 0);
  c('b64dec', (v) => (BASE64.test(v) ? Buffer.from(v, 'base64').toString() : undefined), 0, 0);
  c('url_dec', (v, inForm) => urlDecode(v, inForm !== undefined && inForm !== '' && inForm !== '0'), 0, 1);
  c('json', (v) => jsonEscape(v), 0, 1);
  c('length', (v) => Buffer.byteLength(v), 0, 0);
  return r;
}
