// ngx.ssl in the sslCertificate phase: the certificate for a TLS handshake.

import { BadArgumentError } from '../errors.js';
import type { RequestState } from '../request/state.js';
import { allow } from './check.js';
import type { NgxSsl } from './types.js';

export function sslApi(s: RequestState): NgxSsl {
  const state = () => {
    allow(s, 'ngx.ssl');
    return (s.ssl ??= { serverName: undefined, cert: undefined, key: undefined });
  };
  return {
    serverName: () => state().serverName,
    setCert: (pem) => {
      if (typeof pem !== 'string' || !pem.includes('-----BEGIN')) throw new BadArgumentError('bad certificate: a PEM string is expected');
      state().cert = pem;
    },
    setPrivKey: (pem) => {
      if (typeof pem !== 'string' || !pem.includes('-----BEGIN')) throw new BadArgumentError('bad private key: a PEM string is expected');
      state().key = pem;
    },
    clearCerts: () => {
      const st = state();
      st.cert = undefined;
      st.key = undefined;
    },
  };
}
