// The ssl_certificate phase for https.createServer: an SNICallback that asks the engine which certificate to present.

import { createSecureContext, type SecureContext } from 'node:tls';
import type { Engine } from '@phasekit/core';

export type SNICallback = (serverName: string, cb: (err: Error | null, ctx?: SecureContext) => void) => void;

/**
 * `https.createServer({ key, cert, SNICallback: createSNICallback(engine) }, handler)`: per
 * handshake, the engine's `sslCertificate` handler picks a certificate for the server name
 * (ngx.ssl); when it sets none, the server's own `key`/`cert` are used. Contexts are cached per
 * certificate, so a handler returning the same PEM does not rebuild one per handshake.
 */
export function createSNICallback(engine: Engine): SNICallback {
  const contexts = new Map<string, SecureContext>();
  return (serverName, cb) => {
    engine.sslCertificate(serverName === '' ? undefined : serverName).then(
      (chosen) => {
        if (chosen === undefined) return cb(null);
        const key = `${chosen.cert}\u0000${chosen.key}`;
        let ctx = contexts.get(key);
        if (ctx === undefined) {
          ctx = createSecureContext({ cert: chosen.cert, key: chosen.key });
          if (contexts.size >= 1000) contexts.clear();
          contexts.set(key, ctx);
        }
        cb(null, ctx);
      },
      (err: Error) => cb(err),
    );
  };
}
