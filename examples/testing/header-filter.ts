// header_filter: security headers on every response, and no version-revealing headers.

import type { Ngx } from 'phasekit';

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Strict-Transport-Security': 'max-age=63072000; includeSubDomains',
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
};

export function securityHeaders(ngx: Ngx): void {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) ngx.header[name] = value;
  // Pages under /embed/ are meant to be framed by other sites.
  if (String(ngx.var.uri).startsWith('/embed/')) ngx.header['X-Frame-Options'] = undefined;
  ngx.header.Server = undefined;
  ngx.header['X-Powered-By'] = undefined;
  // HTML gets a content security policy; other types do not need one.
  const type = ngx.header['Content-Type'];
  if (typeof type === 'string' && type.startsWith('text/html')) ngx.header['Content-Security-Policy'] = "default-src 'self'";
}
