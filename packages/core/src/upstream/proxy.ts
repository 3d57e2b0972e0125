// proxyPass: the request goes to an upstream peer (undici), with retries as proxy_next_upstream,
// the balancer phase per try, and the response streamed back through header_filter and body_filter.

import { readFile } from 'node:fs/promises';
import type { Dispatcher } from 'undici';
import type { HeaderValue } from '../ngx/types.js';
import { flushOutput, sendEof, sendHeaders } from '../phases/respond.js';
import { runHandler } from '../phases/run.js';
import { responseHeaders, type RequestState } from '../request/state.js';
import { interpolate } from '../request/vars.js';
import { Peer } from './peers.js';
import { directUpstream, dropPool, lruGet, lruSet, poolFor, type CompiledUpstream, type ProxyTarget } from './upstreams.js';

/** Headers that belong to one connection, never forwarded (RFC 9110 §7.6.1). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'proxy-authenticate', 'proxy-authorization']);

/** What the balancer phase of one try decided (ngx.balancer). */
export interface BalancerState {
  peer: { host: string; port: number } | undefined;
  moreTries: number;
  lastFailure: [state: 'failed' | 'next', status: number | undefined] | undefined;
  timeouts: { connect?: number; send?: number; read?: number } | undefined;
}

/** Per-try figures for $upstream_addr, $upstream_status, $upstream_*_time. */
export interface UpstreamLog {
  addr: string[];
  status: string[];
  responseTime: string[];
  connectTime: string[];
  headerTime: string[];
}

type Outcome =
  | { kind: 'response'; res: Dispatcher.ResponseData }
  | { kind: 'failed'; timeout: boolean; message: string };

/** The content phase of a location with proxyPass. */
export async function runProxy(s: RequestState): Promise<void> {
  const proxy = s.location.proxy;
  if (proxy === undefined) return;
  s.phase = 'content';
  const href = interpolate(s, proxy.template);
  if (!/^https?:\/\//.test(href)) {
    // a variable that holds no URL, as nginx: "invalid URL prefix" and a 500
    s.engine.log('error', `invalid URL prefix in "${href}"`, s);
    s.exitCode = 500;
    return;
  }
  // The host as written: upstream names are matched as given (URL would lower-case them).
  const host = /^https?:\/\/([^/?#]+)/.exec(href)?.[1] ?? '';
  const upstream = resolveUpstream(s, host);
  if (upstream === undefined) {
    s.engine.log('error', `no upstream "${host}" (proxyPass ${href})`, s);
    s.exitCode = 502;
    return;
  }
  const options = proxy.options;
  const body = await requestBody(s);
  if (s.exitCode !== undefined) return;
  const path = upstreamPath(s, href, proxy.withPath, proxy.dynamic);
  const headers = requestHeaders(s, host, proxy.setHeaders, options.xForwardedFor === true);
  const { next, readMs, connectMs } = proxy;
  const retryOff = next.has('off');
  const log: UpstreamLog = (s.upstreamLog = { addr: [], status: [], responseTime: [], connectTime: [], headerTime: [] });
  const tried = new Set<Peer>();
  let maxTries = options.nextUpstreamTries ?? 0;
  if (maxTries === 0) maxTries = upstream.balancer === undefined ? Math.max(1, upstream.peers.all.length) : 1;
  let lastFailure: BalancerState['lastFailure'];
  let kept: Dispatcher.ResponseData | undefined;
  let lastTimeout = false;

  for (let attempt = 0; attempt < maxTries; attempt++) {
    const choice = choosePeer(s, upstream, tried, lastFailure, connectMs, readMs);
    if (choice === undefined) break;
    if (choice === 'error') {
      // The balancer failed: a response kept from an earlier try still holds its connection.
      await kept?.body.dump().catch(() => undefined);
      return;
    }
    const { peer, timeouts } = choice;
    if (upstream.balancer !== undefined) maxTries = Math.max(maxTries, 1 + (s.balancer?.moreTries ?? 0));
    tried.add(peer);
    if (kept !== undefined) {
      await kept.body.dump().catch(() => undefined);
      kept = undefined;
    }
    const started = s.engine.clock.now();
    peer.active++;
    const outcome = await send(poolFor(upstream, peer, timeouts.connect), s.method, path, headers, body, timeouts.read);
    peer.active--;
    const seconds = ((s.engine.clock.now() - started) / 1000).toFixed(3);
    log.addr.push(peer.address);
    log.responseTime.push(seconds);
    log.connectTime.push(outcome.kind === 'response' ? seconds : '-');
    log.headerTime.push(outcome.kind === 'response' ? seconds : '-');
    if (outcome.kind === 'failed') {
      log.status.push(outcome.timeout ? '504' : '502');
      peer.fail(s.engine.clock.now());
      s.engine.log('error', `${outcome.timeout ? 'upstream timed out' : 'connect() failed'} (${outcome.message}) while ${outcome.timeout ? 'reading response header from' : 'connecting to'} upstream, upstream: "http://${peer.address}${path}"`, s);
      lastFailure = ['failed', outcome.timeout ? 504 : 502];
      lastTimeout = outcome.timeout;
      if (retryOff || !next.has(outcome.timeout ? 'timeout' : 'error')) break;
      continue;
    }
    const status = outcome.res.statusCode;
    log.status.push(String(status));
    if (!retryOff && next.has(`http_${status}`)) {
      if (status >= 500) peer.fail(s.engine.clock.now());
      lastFailure = ['next', status];
      kept = outcome.res;
      continue;
    }
    peer.succeed();
    await relay(s, outcome.res);
    return;
  }
  if (kept !== undefined) {
    // Out of tries: the last upstream answer goes to the client, as nginx does.
    await relay(s, kept);
    return;
  }
  s.exitCode = lastTimeout ? 504 : 502;
}

function resolveUpstream(s: RequestState, host: string): CompiledUpstream | undefined {
  const gen = s.gen;
  const named = gen.upstreams.get(host);
  if (named !== undefined) return named;
  let direct = lruGet(gen.directUpstreams, host);
  if (direct === undefined) {
    direct = directUpstream(host);
    if (direct === undefined) return undefined;
    lruSet(gen.directUpstreams, host, direct, (old) => {
      for (const address of [...old.pools.keys()]) dropPool(old, address);
    });
  }
  return direct;
}

/** The peer for one try: the balancer handler's choice, or the upstream's own selection. */
function choosePeer(s: RequestState, upstream: CompiledUpstream, tried: ReadonlySet<Peer>, lastFailure: BalancerState['lastFailure'], connectMs: number, readMs: number):
  { peer: Peer; timeouts: { connect: number; read: number } } | 'error' | undefined {
  if (upstream.balancer !== undefined) {
    const state: BalancerState = (s.balancer = { peer: undefined, moreTries: s.balancer?.moreTries ?? 0, lastFailure, timeouts: undefined });
    runHandler(s, 'balancer', upstream.balancer);
    s.phase = 'content';
    if (s.failed) return 'error';
    if (state.peer !== undefined) {
      const address = `${state.peer.host.includes(':') ? `[${state.peer.host}]` : state.peer.host}:${state.peer.port}`;
      let peer = upstream.peers.all.find((p) => p.address === address) ?? lruGet(upstream.extraPeers, address);
      if (peer === undefined) {
        peer = new Peer({ host: state.peer.host, port: state.peer.port, weight: 1, maxFails: 0, failTimeout: 10, backup: false });
        lruSet(upstream.extraPeers, address, peer, (_, old) => dropPool(upstream, old));
      }
      return {
        peer,
        timeouts: { connect: (state.timeouts?.connect ?? connectMs / 1000) * 1000, read: (state.timeouts?.read ?? readMs / 1000) * 1000 },
      };
    }
  }
  const key = upstream.hash === undefined ? undefined : interpolate(s, upstream.hash);
  const peer = upstream.peers.pick(s.engine.clock.now(), tried, key);
  return peer === undefined ? undefined : { peer, timeouts: { connect: connectMs, read: readMs } };
}

async function send(pool: Dispatcher, method: string, path: string, headers: Record<string, string | string[]>, body: Uint8Array | undefined, readMs: number): Promise<Outcome> {
  try {
    const res = await pool.request({ method: method as Dispatcher.HttpMethod, path, headers, body: body ?? null, headersTimeout: readMs, bodyTimeout: readMs });
    return { kind: 'response', res };
  } catch (err) {
    const code = (err as { code?: string }).code ?? '';
    return { kind: 'failed', timeout: code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT', message: (err as Error).message };
  }
}

/** Streams the upstream response back: status and headers through header_filter, body chunks through body_filter. */
async function relay(s: RequestState, res: Dispatcher.ResponseData): Promise<void> {
  s.status = res.statusCode;
  const headers = responseHeaders(s);
  for (const [name, value] of Object.entries(res.headers)) {
    if (value === undefined || HOP_BY_HOP.has(name)) continue;
    headers.set(name, value as HeaderValue);
  }
  const buffer = s.location.bodyFilterBuffer;
  if (buffer !== undefined) {
    await bufferBody(s, res, buffer.maxBytes);
    return;
  }
  const keepLength = s.location.bodyFilter === undefined;
  if (!sendHeaders(s, keepLength)) {
    await res.body.dump().catch(() => undefined);
    return;
  }
  try {
    await new Promise<void>((resolve, reject) => {
      const body = res.body;
      // 'data' with pause/resume for backpressure: cheaper per chunk than an async iterator.
      body.on('data', (chunk: Buffer) => {
        if (s.eofSent) return;
        s.out.push(chunk);
        const drained = flushOutput(s, true, false);
        if (drained !== undefined) {
          body.pause();
          drained.then(() => body.resume(), reject);
        }
      });
      body.once('end', resolve);
      body.once('error', reject);
    });
  } catch (err) {
    // The upstream went away mid-body: the client's response cannot be completed.
    s.engine.log('error', `upstream prematurely closed connection while reading upstream (${(err as Error).message})`, s);
    s.failed = true;
    return;
  }
  sendEof(s);
}

/**
 * bodyFilterBuffer: the upstream body is read whole (a byte past maxBytes stops the read) and
 * answered like a handler's output: body_filter once with eof, then a Content-Length. The size
 * check and its 500 are the response's (see respond in pipeline.ts).
 */
async function bufferBody(s: RequestState, res: Dispatcher.ResponseData, maxBytes: number): Promise<void> {
  responseHeaders(s).drop('Content-Length');
  let size = 0;
  try {
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      s.out.push(chunk);
      size += chunk.length;
      if (size > maxBytes) break; // leaving the loop destroys the upstream body
    }
  } catch (err) {
    // Nothing has gone to the client yet: the upstream's failure is a 502.
    s.engine.log('error', `upstream prematurely closed connection while reading upstream (${(err as Error).message})`, s);
    s.out.length = 0;
    responseHeaders(s).clear();
    s.exitCode = 502;
    return;
  }
  s.headersSent = true;
}

/** The body to forward (read in full first, as nginx's proxy_request_buffering does, so retries can resend it). */
async function requestBody(s: RequestState): Promise<Uint8Array | undefined> {
  const h = s.exchange.headers;
  const hasBody = (h['content-length'] !== undefined && h['content-length'] !== '0') || h['transfer-encoding'] !== undefined;
  if (!s.bodyRead && hasBody) {
    try {
      await s.ngx.req.readBody();
    } catch (err) {
      if (s.bodyTooLarge !== undefined) {
        s.exitCode = 413;
        return undefined;
      }
      throw err;
    }
  }
  if (s.bodyFile !== undefined) return readFile(s.bodyFile);
  return s.body;
}

/**
 * nginx's rule: a proxyPass with a path part replaces the matched location prefix with it;
 * without one, the request URI goes as the client sent it (or as rewritten). With variables in
 * proxyPass, a path part in the value is the whole URI sent, as it is.
 */
function upstreamPath(s: RequestState, href: string, withPath: boolean, dynamic: boolean): string {
  const args = s.args === '' ? '' : `?${s.args}`;
  if (dynamic && /^https?:\/\/[^/?#]+[/?]/.test(href)) {
    const target = new URL(href);
    return `${target.pathname}${target.search}`;
  }
  if (!withPath) return s.uri === s.initialUri ? s.requestUri : `${encodeURI(s.uri)}${args}`;
  const target = new URL(href);
  const match = s.location.match;
  const prefix = match.kind === 'prefix' || match.kind === 'prefixStop' || match.kind === 'exact' ? match.value : '';
  const rest = prefix !== '' && s.uri.startsWith(prefix) ? s.uri.slice(prefix.length) : s.uri.slice(1);
  return `${target.pathname}${encodeURI(rest)}${args}`;
}

function requestHeaders(s: RequestState, proxyHost: string, set: ProxyTarget['setHeaders'], xff: boolean): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const h = s.ngx.req.getHeaders(0, true);
  for (const [name, value] of Object.entries(h)) {
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || lower === 'host' || lower === 'content-length') continue;
    out[name] = value;
  }
  // nginx's defaults: proxy_set_header Host $proxy_host; Connection close (undici keeps its own pool).
  out.host = proxyHost;
  if (xff) {
    const prior = s.exchange.headers['x-forwarded-for'];
    out['x-forwarded-for'] = prior === undefined ? s.exchange.remoteAddress : `${Array.isArray(prior) ? prior.join(', ') : prior}, ${s.exchange.remoteAddress}`;
  }
  for (const [name, value] of set) {
    const v = interpolate(s, value);
    const key = Object.keys(out).find((k) => k.toLowerCase() === name.toLowerCase()) ?? name;
    if (v === '') delete out[key];
    else out[key] = v;
  }
  return out;
}
