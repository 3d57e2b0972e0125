// Consumers and their credentials (Kong's declarative shape), indexed for the auth plugins, and what
// a request authenticated as (read by rate-limiting's limit_by and sent upstream as X-Consumer-*).

import { createHash } from 'node:crypto';
import type { Ngx } from '@phasekit/core';
import { z } from 'zod';
import { joinPath } from './path.js';
import { peekSlots, slotsOf } from './request-state.js';
import type { ConsumerConfig } from './types.js';

const JWT_ALGORITHMS = ['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512'] as const;

/** The zod schema of one consumer (top-level `consumers`, and in a dynamic routes file). */
export const consumerSchema = z
  .object({
    username: z.string().min(1),
    id: z.string().min(1).optional(),
    custom_id: z.string().min(1).optional(),
    keyauth_credentials: z.array(z.object({ key: z.string().min(1), id: z.string().optional() }).strict()).optional(),
    basicauth_credentials: z.array(z.object({ username: z.string().min(1), password: z.string(), id: z.string().optional() }).strict()).optional(),
    jwt_secrets: z
      .array(
        z
          .object({
            key: z.string().min(1),
            algorithm: z.enum(JWT_ALGORITHMS).optional(),
            secret: z.string().optional(),
            rsa_public_key: z.string().optional(),
            id: z.string().optional(),
          })
          .strict()
          .superRefine((s, ctx) => {
            const rsa = (s.algorithm ?? 'HS256').startsWith('RS');
            if (rsa && s.rsa_public_key === undefined) ctx.addIssue({ code: 'custom', path: ['rsa_public_key'], message: `algorithm ${s.algorithm} needs rsa_public_key (PEM)` });
            if (!rsa && s.secret === undefined) ctx.addIssue({ code: 'custom', path: ['secret'], message: 'an HMAC algorithm needs a secret' });
          }),
      )
      .optional(),
  })
  .strict();

export interface Consumer {
  readonly id: string;
  readonly username: string;
  readonly custom_id: string | undefined;
}

export interface Credential {
  readonly id: string;
  readonly consumer: Consumer;
}

export interface JwtCredential extends Credential {
  readonly key: string;
  readonly algorithm: (typeof JWT_ALGORITHMS)[number];
  readonly secret: string | undefined;
  readonly rsaPublicKey: string | undefined;
}

export interface BasicCredential extends Credential {
  /** sha256 of the password: compared in constant time. */
  readonly hash: Buffer;
}

/** The consumers one request may authenticate as, indexed by credential. */
export class Consumers {
  static readonly EMPTY = new Consumers([]);
  readonly byKey = new Map<string, Credential>();
  readonly byBasic = new Map<string, BasicCredential>();
  readonly byJwtKey = new Map<string, JwtCredential>();
  /** By username and by id (for `anonymous`). */
  readonly byName = new Map<string, Consumer>();
  /** Duplicate credentials and names, with their paths (reported as config issues). */
  readonly issues: { path: string; message: string }[] = [];

  constructor(configs: readonly ConsumerConfig[], path = 'consumers') {
    configs.forEach((c, i) => this.#add(c, joinPath(path, i)));
  }

  /** These consumers with `more` over them (a dynamic routes file's over the config's). */
  with(more: Consumers): Consumers {
    if (more.byName.size === 0) return this;
    const out = new Consumers([]);
    for (const from of [this, more]) {
      for (const [k, v] of from.byKey) out.byKey.set(k, v);
      for (const [k, v] of from.byBasic) out.byBasic.set(k, v);
      for (const [k, v] of from.byJwtKey) out.byJwtKey.set(k, v);
      for (const [k, v] of from.byName) out.byName.set(k, v);
    }
    return out;
  }

  #add(c: ConsumerConfig, path: string): void {
    const consumer: Consumer = Object.freeze({ id: c.id ?? c.username, username: c.username, custom_id: c.custom_id });
    if (this.byName.has(c.username)) this.issues.push({ path: `${path}.username`, message: `consumer "${c.username}" is given twice` });
    this.byName.set(consumer.username, consumer);
    if (consumer.id !== consumer.username) this.byName.set(consumer.id, consumer);
    (c.keyauth_credentials ?? []).forEach((k, j) => {
      if (this.byKey.has(k.key)) this.issues.push({ path: `${path}.keyauth_credentials[${j}].key`, message: 'this key belongs to another credential' });
      this.byKey.set(k.key, { id: k.id ?? `${consumer.id}:key-auth:${j}`, consumer });
    });
    (c.basicauth_credentials ?? []).forEach((b, j) => {
      if (this.byBasic.has(b.username)) this.issues.push({ path: `${path}.basicauth_credentials[${j}].username`, message: `basic-auth username "${b.username}" is given twice` });
      this.byBasic.set(b.username, { id: b.id ?? `${consumer.id}:basic-auth:${j}`, consumer, hash: sha256(b.password) });
    });
    (c.jwt_secrets ?? []).forEach((s, j) => {
      if (this.byJwtKey.has(s.key)) this.issues.push({ path: `${path}.jwt_secrets[${j}].key`, message: `jwt key "${s.key}" is given twice` });
      this.byJwtKey.set(s.key, { id: s.id ?? `${consumer.id}:jwt:${j}`, consumer, key: s.key, algorithm: s.algorithm ?? 'HS256', secret: s.secret, rsaPublicKey: s.rsa_public_key });
    });
  }
}

export function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** What a request authenticated as (or the anonymous consumer). */
export interface Authenticated {
  readonly consumer: Consumer | undefined;
  readonly credential: Credential | undefined;
  readonly anonymous: boolean;
}

/** The consumer and credential the request authenticated with, if any plugin authenticated it. */
export function authenticatedOf(ngx: Ngx): Authenticated | undefined {
  return peekSlots(ngx)?.authenticated as Authenticated | undefined;
}

/**
 * Records the request's consumer (Kong's kong.client.authenticate): `ngx.ctx.authenticated_consumer`
 * and `authenticated_credential`, and the X-Consumer-* request headers the upstream sees.
 */
export function authenticate(ngx: Ngx, consumer: Consumer | undefined, credential: Credential | undefined, anonymous = false): void {
  slotsOf(ngx).authenticated = { consumer, credential, anonymous } satisfies Authenticated;
  const ctx = ngx.ctx;
  ctx.authenticated_consumer = consumer;
  ctx.authenticated_credential = credential;
  // Set, or cleared when the client sent them (an upstream must not trust a client's X-Consumer-*).
  for (let i = 0; i < CONSUMER_HEADERS.length; i++) {
    const [name, varName] = CONSUMER_HEADERS[i] as readonly [string, string];
    const value = i === 0 ? consumer?.id : i === 1 ? consumer?.username : i === 2 ? consumer?.custom_id : i === 3 ? credential?.id : anonymous ? 'true' : undefined;
    if (value !== undefined) ngx.req.setHeader(name, value);
    else if (ngx.var[varName] !== undefined) ngx.req.clearHeader(name);
  }
}

const CONSUMER_HEADERS = (['X-Consumer-ID', 'X-Consumer-Username', 'X-Consumer-Custom-ID', 'X-Credential-Identifier', 'X-Anonymous-Consumer'] as const).map(
  (n) => [n, `http_${n.toLowerCase().replace(/-/g, '_')}`] as const,
);
