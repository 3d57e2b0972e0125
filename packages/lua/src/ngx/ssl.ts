// require("ngx.ssl") in the ssl_certificate phase: server_name, clear_certs, set_cert / set_priv_key.

import { guard, type RequestInstall } from './request.js';

// Certificates are kept as PEM; the DER functions convert, so OpenResty code written for
// set_der_cert(cert_pem_to_der(pem)) works unchanged.
const SSL_LUA = String.raw`
local preload, js = ...
preload["ngx.ssl"] = function()
  local ssl = {}
  function ssl.server_name() return js.server_name() end
  function ssl.clear_certs() js.clear_certs() return true end
  function ssl.parse_pem_cert(pem) return pem end
  function ssl.parse_pem_priv_key(pem) return pem end
  function ssl.set_cert(cert) return js.set_cert(cert) end
  function ssl.set_priv_key(key) return js.set_priv_key(key) end
  function ssl.cert_pem_to_der(pem) return js.pem_to_der(pem) end
  function ssl.priv_key_pem_to_der(pem) return js.pem_to_der(pem) end
  function ssl.set_der_cert(der) return js.set_cert(js.der_to_pem(der, "CERTIFICATE")) end
  function ssl.set_der_priv_key(der) return js.set_priv_key(js.der_to_pem(der, "PRIVATE KEY")) end
  return ssl
end
`;

export function installSsl(ctx: RequestInstall): void {
  const { vm } = ctx;
  const js = vm.newTable();
  ctx.fn(js, 'server_name', (call) => {
    const r = ctx.request(call);
    call.pushValue(guard(call, () => r.ssl.serverName()) ?? null);
    return 1;
  });
  ctx.fn(js, 'clear_certs', (call) => {
    const r = ctx.request(call);
    guard(call, () => r.ssl.clearCerts());
    return 0;
  });
  const setter = (which: 'setCert' | 'setPrivKey') => (call: Parameters<Parameters<typeof ctx.fn>[2]>[0]) => {
    const r = ctx.request(call);
    const pem = call.checkString(1);
    try {
      r.ssl[which](pem);
      call.pushBoolean(true);
      return 1;
    } catch (err) {
      call.pushNil();
      call.pushString((err as Error).message);
      return 2;
    }
  };
  ctx.fn(js, 'set_cert', setter('setCert'));
  ctx.fn(js, 'set_priv_key', setter('setPrivKey'));
  ctx.fn(js, 'pem_to_der', (call) => {
    const pem = call.checkString(1);
    const body = pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
    if (body === '') {
      call.pushNil();
      call.pushString('PEM_read_bio failed');
      return 2;
    }
    call.pushBytes(Buffer.from(body, 'base64'));
    return 1;
  });
  ctx.fn(js, 'der_to_pem', (call) => {
    const der = Buffer.from(call.checkBytes(1));
    const label = call.checkString(2);
    const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
    call.pushString(`-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`);
    return 1;
  });
  vm.run(SSL_LUA, 'ngx.ssl', ctx.preload, js);
}
