// jwt: a signed JWT (HS256/384/512, RS256/384/512 on node:crypto) from the query string, a cookie or
// `Authorization: Bearer`, whose key claim (`iss`) names a consumer's jwt_secrets entry. Kong's
// 401 bodies: "Unauthorized", "Bad token; ...", "No mandatory 'iss' in claims", "Invalid signature",
// "Invalid algorithm", or the failed claims (`{"exp":"token expired"}`).

import { createHmac, createPublicKey, timingSafeEqual, verify, type KeyObject } from 'node:crypto';
import type { Ngx } from '@phasekit/core';
import { z } from 'zod';
import { authenticate, type JwtCredential } from '../consumers.js';
import { alreadyAuthenticated, failAuth } from './auth.js';
import { builtin, header, isPreflight, type PluginServices } from './common.js';

const schema = z
  .object({
    uri_param_names: z.array(z.string().min(1)).default(['jwt']),
    cookie_names: z.array(z.string().min(1)).default([]),
    header_names: z.array(z.string().min(1)).default(['authorization']),
    key_claim_name: z.string().min(1).default('iss'),
    secret_is_base64: z.boolean().default(false),
    claims_to_verify: z.array(z.enum(['exp', 'nbf'])).default([]),
    /** Seconds a token may live (exp - now); 0: no limit. Needs "exp" in claims_to_verify. */
    maximum_expiration: z.number().min(0, 'expected a value between 0 and 31536000').max(31536000, 'expected a value between 0 and 31536000').default(0),
    anonymous: z.string().min(1).optional(),
    run_on_preflight: z.boolean().default(true),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.maximum_expiration > 0 && !c.claims_to_verify.includes('exp')) ctx.addIssue({ code: 'custom', path: ['claims_to_verify'], message: 'expected to contain "exp" when maximum_expiration is set' });
  });

type Conf = z.output<typeof schema>;

const HASH: Record<string, string> = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512', RS256: 'RSA-SHA256', RS384: 'RSA-SHA384', RS512: 'RSA-SHA512' };

interface Token {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
  signed: string;
  signature: Buffer;
}

export function jwt(services: PluginServices) {
  const keys = new WeakMap<JwtCredential, KeyObject>();
  const publicKey = (c: JwtCredential): KeyObject => {
    let k = keys.get(c);
    if (k === undefined) keys.set(c, (k = createPublicKey(c.rsaPublicKey ?? '')));
    return k;
  };
  return builtin({
    name: 'jwt',
    priority: 1450,
    schema,
    methods: {
      access: (ngx, conf: Conf) => {
        if (!conf.run_on_preflight && isPreflight(ngx)) return undefined;
        if (alreadyAuthenticated(ngx, conf.anonymous)) return undefined;
        const fail = (status: number, body: string | Record<string, unknown>) => failAuth(ngx, services, 'jwt', conf.anonymous, status, body);
        const tokens = tokensOf(ngx, conf);
        if (tokens.size === 0) return fail(401, 'Unauthorized');
        if (tokens.size > 1) return fail(401, 'Multiple tokens provided');
        const decoded = decode([...tokens][0] as string);
        if (typeof decoded === 'string') return fail(401, `Bad token; ${decoded}`);
        const claim = conf.key_claim_name;
        const keyValue = decoded.claims[claim] ?? decoded.header[claim];
        if (keyValue === undefined) return fail(401, `No mandatory '${claim}' in claims`);
        if (typeof keyValue !== 'string' || keyValue === '') return fail(401, `Invalid '${claim}' in claims`);
        const credential = services.consumers(ngx).byJwtKey.get(keyValue);
        if (credential === undefined) return fail(401, `No credentials found for given '${claim}'`);
        if (decoded.header.alg !== credential.algorithm) return fail(401, 'Invalid algorithm');
        let valid: boolean;
        try {
          valid = checkSignature(decoded, credential, conf, publicKey);
        } catch (err) {
          services.log('error', `jwt: cannot verify with the credential of '${keyValue}': ${(err as Error).message}`, ngx);
          return fail(401, 'Invalid key/secret');
        }
        if (!valid) return fail(401, 'Invalid signature');
        const errors = checkClaims(decoded.claims, conf, ngx.now());
        if (errors !== undefined) return fail(401, errors);
        authenticate(ngx, credential.consumer, credential);
        return undefined;
      },
    },
  });
}

function tokensOf(ngx: Ngx, conf: Conf): Set<string> {
  const tokens = new Set<string>();
  if (conf.uri_param_names.length > 0) {
    const args = ngx.req.getUriArgs();
    for (const name of conf.uri_param_names) {
      const v = args[name];
      if (typeof v === 'string') tokens.add(v);
      else if (Array.isArray(v)) for (const x of v) if (typeof x === 'string') tokens.add(x);
    }
  }
  for (const name of conf.cookie_names) {
    const v = ngx.var[`cookie_${name}`];
    if (typeof v === 'string' && v !== '') tokens.add(v);
  }
  for (const name of conf.header_names) {
    const v = header(ngx, name);
    const m = v === undefined ? null : /^\s*bearer\s+(.+?)\s*$/i.exec(v);
    if (m !== null) tokens.add(m[1] as string);
  }
  return tokens;
}

function decode(token: string): Token | string {
  const parts = token.split('.');
  if (parts.length !== 3) return 'invalid JWT';
  const [h, c, s] = parts as [string, string, string];
  let header: unknown;
  let claims: unknown;
  try {
    header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'));
    claims = JSON.parse(Buffer.from(c, 'base64url').toString('utf8'));
  } catch {
    return 'invalid JSON';
  }
  if (typeof header !== 'object' || header === null || typeof claims !== 'object' || claims === null) return 'invalid JSON';
  const alg = (header as { alg?: unknown }).alg;
  if (typeof alg !== 'string' || HASH[alg] === undefined) return 'invalid alg';
  return { header: header as Record<string, unknown>, claims: claims as Record<string, unknown>, signed: `${h}.${c}`, signature: Buffer.from(s, 'base64url') };
}

function checkSignature(t: Token, c: JwtCredential, conf: Conf, publicKey: (c: JwtCredential) => KeyObject): boolean {
  const hash = HASH[c.algorithm] as string;
  if (c.algorithm.startsWith('HS')) {
    const secret = conf.secret_is_base64 ? Buffer.from(c.secret ?? '', 'base64') : Buffer.from(c.secret ?? '', 'utf8');
    const expected = createHmac(hash, secret).update(t.signed).digest();
    return expected.length === t.signature.length && timingSafeEqual(expected, t.signature);
  }
  return verify(hash, Buffer.from(t.signed), publicKey(c), t.signature);
}

/** Kong's registered-claims check: the failures by claim, or undefined when all pass. */
function checkClaims(claims: Record<string, unknown>, conf: Conf, now: number): Record<string, string> | undefined {
  const errors: Record<string, string> = {};
  for (const name of conf.claims_to_verify) {
    const v = claims[name];
    if (v === undefined) errors[name] = `must be a number`;
    else if (typeof v !== 'number') errors[name] = 'must be a number';
    else if (name === 'exp' && v <= now) errors[name] = 'token expired';
    else if (name === 'nbf' && v > now) errors[name] = 'token not valid yet';
  }
  if (conf.maximum_expiration > 0 && errors.exp === undefined && typeof claims.exp === 'number' && claims.exp - now > conf.maximum_expiration) {
    errors.exp = 'exceeds maximum allowed expiration';
  }
  return Object.keys(errors).length === 0 ? undefined : errors;
}
