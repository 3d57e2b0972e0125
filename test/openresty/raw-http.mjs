// A raw HTTP/1.x client on node:net: one request per fresh connection, the answer read until the
// server closes, and its framing (Content-Length, chunked, close-delimited) reported as seen.

import { connect } from 'node:net';
import { TextDecoder } from 'node:util';

/** Bytes of a request body given as a string (UTF-8) or `{ base64 }`. */
export function bodyBytes(body) {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (typeof body === 'object' && typeof body.base64 === 'string') return Buffer.from(body.base64, 'base64');
  throw new Error(`a request body is a string or { base64 }, got ${JSON.stringify(body)}`);
}

/** Header pairs of a request: `{ name: value | [values] }` or `[[name, value], ...]`. */
function headerPairs(headers) {
  if (headers === undefined) return [];
  if (Array.isArray(headers)) return headers.map(([k, v]) => [k, String(v)]);
  const out = [];
  for (const [k, v] of Object.entries(headers)) {
    if (Array.isArray(v)) for (const one of v) out.push([k, String(one)]);
    else out.push([k, String(v)]);
  }
  return out;
}

/**
 * The request's bytes. Defaults: `GET /`, HTTP/1.1, `Host: localhost`, `Connection: close`, and
 * `Content-Length` when there is a body (unless the case gives its own Host, Connection,
 * Content-Length or Transfer-Encoding). `raw` replaces everything.
 */
export function requestBytes(req) {
  if (req.raw !== undefined) return Buffer.from(req.raw, 'latin1');
  const method = req.method ?? 'GET';
  const path = req.path ?? '/';
  const version = req.http ?? '1.1';
  const pairs = headerPairs(req.headers);
  const has = (name) => pairs.some(([k]) => k.toLowerCase() === name);
  const body = bodyBytes(req.body);
  const head = [];
  if (!has('host')) head.push(['Host', 'localhost']);
  head.push(...pairs);
  if (!has('connection')) head.push(['Connection', 'close']);
  if (body !== undefined && !has('content-length') && !has('transfer-encoding')) head.push(['Content-Length', String(body.length)]);
  let text = `${method} ${path} HTTP/${version}\r\n`;
  for (const [k, v] of head) text += `${k}: ${v}\r\n`;
  text += '\r\n';
  const start = Buffer.from(text, 'latin1');
  return body === undefined ? start : Buffer.concat([start, body]);
}

const DROP = new Set(['date', 'server', 'connection', 'keep-alive']);

/** Text when the bytes are UTF-8, else `{ base64 }`. */
export function bodyValue(buf) {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(buf);
  } catch {
    return { base64: buf.toString('base64') };
  }
}

/**
 * Parses what the server sent before it closed the connection.
 * `{ status, headers, framing, body, incomplete? }`; framing is "length", "chunked", "none"
 * (delimited by the close) or "closed" (no response at all).
 */
export function parseResponse(buf, method, timedOut = false) {
  const end = buf.indexOf('\r\n\r\n');
  if (end === -1) {
    const res = { status: null, headers: {}, framing: timedOut ? 'timeout' : 'closed', body: '' };
    if (buf.length > 0) res.partial = bodyValue(buf);
    return res;
  }
  const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
  const statusLine = lines.shift() ?? '';
  const m = /^HTTP\/\d\.\d (\d{3})/.exec(statusLine);
  const status = m ? Number(m[1]) : null;
  // No prototype: a header named `constructor` is a header like any other.
  const headers = Object.create(null);
  const raw = [];
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon === -1) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    // Header bytes are compared as UTF-8 text when they are, else kept as latin1 characters.
    const valueBytes = Buffer.from(line.slice(colon + 1).trim(), 'latin1');
    const decoded = bodyValue(valueBytes);
    const value = typeof decoded === 'string' ? decoded : valueBytes.toString('latin1');
    raw.push([name, value]);
    if (DROP.has(name)) continue;
    if (name in headers) {
      const prev = headers[name];
      headers[name] = Array.isArray(prev) ? [...prev, value] : [prev, value];
    } else headers[name] = value;
  }
  const te = raw.find(([k]) => k === 'transfer-encoding')?.[1] ?? '';
  const cl = raw.find(([k]) => k === 'content-length')?.[1];
  const framing = /chunked/i.test(te) ? 'chunked' : cl !== undefined ? 'length' : 'none';
  const rest = buf.subarray(end + 4);
  const noBody = method === 'HEAD' || status === 204 || status === 304 || (status !== null && status < 200);
  let body = Buffer.alloc(0);
  let incomplete = false;
  if (noBody) {
    incomplete = rest.length > 0;
  } else if (framing === 'chunked') {
    const parts = [];
    let pos = 0;
    incomplete = true;
    for (;;) {
      const eol = rest.indexOf('\r\n', pos);
      if (eol === -1) break;
      const size = parseInt(rest.subarray(pos, eol).toString('latin1'), 16);
      if (Number.isNaN(size)) break;
      if (size === 0) {
        incomplete = false;
        break;
      }
      const chunk = rest.subarray(eol + 2, eol + 2 + size);
      parts.push(chunk);
      if (chunk.length < size) break;
      pos = eol + 2 + size + 2;
    }
    body = Buffer.concat(parts);
  } else if (framing === 'length') {
    const n = Number(cl);
    body = rest.subarray(0, n);
    incomplete = body.length < n;
  } else {
    body = rest;
  }
  const res = { status, headers, framing, body: bodyValue(body) };
  if (incomplete) res.incomplete = true;
  if (timedOut) res.timeout = true;
  return res;
}

/** Sends one request on a new connection to 127.0.0.1:port and reads the answer until close. */
export function sendRequest(port, req, { timeoutMs = 5000 } = {}) {
  const bytes = requestBytes(req);
  const method = req.raw !== undefined ? req.raw.split(' ')[0] : (req.method ?? 'GET');
  return new Promise((resolve) => {
    const chunks = [];
    let timedOut = false;
    const socket = connect({ port, host: '127.0.0.1' }, () => socket.write(bytes));
    const timer = setTimeout(() => {
      timedOut = true;
      socket.destroy();
    }, timeoutMs);
    socket.on('data', (d) => chunks.push(d));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(parseResponse(Buffer.concat(chunks), method, timedOut));
    });
  });
}
