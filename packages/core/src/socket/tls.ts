// sslhandshake: TLS over a connected cosocket (node:tls wrapping the socket), with nginx's answers
// for verification failures ("18: self-signed certificate", "certificate host mismatch").

import { isIP } from 'node:net';
import { checkServerIdentity as defaultIdentity, connect as tlsConnect, type ConnectionOptions, type PeerCertificate, type TLSSocket } from 'node:tls';
import type { Clock } from '../clock.js';
import { tlsErrorText } from './messages.js';
import type { Connection } from './pool.js';
import { ByteReader } from './reader.js';
import type { Pending } from './reads.js';

export interface TlsOptions {
  /** A session from an earlier handshake to resume; `false`: the result is `true`, not a session. */
  reusedSession?: Buffer | false | undefined;
  /** SNI, and the name the certificate must match when verifying. */
  serverName?: string | undefined;
  /** Verify the certificate chain (against the engine's trusted certificates) and the name. */
  verify?: boolean;
  /** Ask for OCSP stapling (send_status_req); accepted and ignored (node:tls clients do not ask). */
  requestOcsp?: boolean;
}

export type TlsOutcome = { ok: true; session: Buffer | true } | { ok: false; error: string; log: string | undefined };

/** Wraps `conn`'s socket in TLS; on success `conn.socket` and `conn.reader` are the TLS ones. */
export function startTls(conn: Connection, options: TlsOptions, ctx: { timeoutMs: number; clock: Clock; ca: string | undefined }): Pending<TlsOutcome> {
  const raw = conn.socket;
  conn.reader.detach();
  const name = options.serverName;
  const tlsOptions: ConnectionOptions = {
    socket: raw,
    rejectUnauthorized: options.verify === true,
    // nginx checks the name only when one was given.
    checkServerIdentity: (host: string, cert: PeerCertificate) => (name === undefined || name === '' ? undefined : defaultIdentity(host, cert)),
  };
  if (name !== undefined && name !== '' && isIP(name) === 0) tlsOptions.servername = name;
  if (name !== undefined && name !== '') tlsOptions.host = name;
  if (ctx.ca !== undefined) tlsOptions.ca = ctx.ca;
  if (options.reusedSession instanceof Buffer && options.reusedSession.length > 0) tlsOptions.session = options.reusedSession;
  const socket: TLSSocket = tlsConnect(tlsOptions);
  let cancelTimer: (() => void) | undefined;
  let settle!: (r: TlsOutcome) => void;
  const p: Pending<TlsOutcome> = new Promise<TlsOutcome>((resolve) => {
    settle = (r) => {
      socket.off('secureConnect', onSecure);
      socket.off('error', onError);
      cancelTimer?.();
      resolve(r);
    };
  });
  const onSecure = () => {
    conn.socket = socket;
    conn.reader = new ByteReader(socket);
    conn.tls = true;
    settle({ ok: true, session: socket.getSession() ?? true });
  };
  const onError = (err: unknown) => {
    socket.destroy();
    const error = tlsErrorText(err);
    const code = (err as { code?: string }).code;
    const log = code === 'ERR_TLS_CERT_ALTNAME_INVALID' ? `lua ssl certificate does not match host "${name ?? ''}"` : error.includes(':') ? `lua ssl certificate verify error: (${error})` : `SSL_do_handshake() failed (${(err as Error).message})`;
    settle({ ok: false, error, log });
  };
  socket.once('secureConnect', onSecure);
  socket.once('error', onError);
  if (ctx.timeoutMs > 0) {
    cancelTimer = ctx.clock.schedule(() => {
      socket.destroy();
      settle({ ok: false, error: 'timeout', log: 'lua tcp socket read timed out' });
    }, ctx.timeoutMs);
  }
  p.cancel = () => {
    cancelTimer?.();
    socket.destroy();
  };
  return p;
}
