// basic-auth: `Authorization: Basic base64(user:password)` (or Proxy-Authorization) checked against
// the consumers' basicauth_credentials. Kong's answers: 401 "Unauthorized" with
// WWW-Authenticate: Basic realm="service" when the credentials are missing or wrong.

import { timingSafeEqual } from 'node:crypto';
import type { Ngx } from '@phasekit/core';
import { z } from 'zod';
import { authenticate, sha256, type BasicCredential } from '../consumers.js';
import { alreadyAuthenticated, failAuth } from './auth.js';
import { builtin, header, isPreflight, type PluginServices } from './common.js';

const schema = z
  .object({
    hide_credentials: z.boolean().default(false),
    anonymous: z.string().min(1).optional(),
    run_on_preflight: z.boolean().default(true),
    realm: z.string().default('service'),
  })
  .strict();

type Conf = z.output<typeof schema>;

export function basicAuth(services: PluginServices) {
  return builtin({
    name: 'basic-auth',
    priority: 1100,
    schema,
    methods: {
      access: (ngx, conf: Conf) => {
        if (!conf.run_on_preflight && isPreflight(ngx)) return undefined;
        if (alreadyAuthenticated(ngx, conf.anonymous)) return undefined;
        const challenge = { 'WWW-Authenticate': `Basic realm="${conf.realm}"` };
        const found = credentialOf(ngx, services, 'proxy-authorization') ?? credentialOf(ngx, services, 'authorization');
        if (found === undefined) return failAuth(ngx, services, 'basic-auth', conf.anonymous, 401, 'Unauthorized', challenge);
        if (conf.hide_credentials) {
          ngx.req.clearHeader('Authorization');
          ngx.req.clearHeader('Proxy-Authorization');
        }
        authenticate(ngx, found.consumer, found);
        return undefined;
      },
    },
  });
}

/** The credential a `Basic` header names, when the password matches. */
function credentialOf(ngx: Ngx, services: PluginServices, name: string): BasicCredential | undefined {
  const value = header(ngx, name);
  const m = value === undefined ? null : /^\s*Basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(value);
  if (m === null) return undefined;
  const decoded = Buffer.from(m[1] as string, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) return undefined;
  const credential = services.consumers(ngx).byBasic.get(decoded.slice(0, colon));
  if (credential === undefined) return undefined;
  return timingSafeEqual(credential.hash, sha256(decoded.slice(colon + 1))) ? credential : undefined;
}
