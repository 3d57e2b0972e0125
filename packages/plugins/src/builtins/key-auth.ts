// key-auth: an API key in a header, the query string or the body, matched against the consumers'
// keyauth_credentials. Kong's statuses and bodies: 401 "No API key found in request", 401
// "Unauthorized" for an unknown key, WWW-Authenticate: Key.

import { type Ngx } from '@phasekit/core';
import { z } from 'zod';
import { authenticate } from '../consumers.js';
import { alreadyAuthenticated, failAuth } from './auth.js';
import { builtin, header, isPreflight, kongExit, type PluginServices } from './common.js';

const schema = z
  .object({
    key_names: z.array(z.string().regex(/^[A-Za-z0-9_-]+$/, 'a key name is letters, digits, "-" and "_"')).min(1).default(['apikey']),
    key_in_header: z.boolean().default(true),
    key_in_query: z.boolean().default(true),
    key_in_body: z.boolean().default(false),
    hide_credentials: z.boolean().default(false),
    /** A consumer (username or id) for requests without a valid key. */
    anonymous: z.string().min(1).optional(),
    run_on_preflight: z.boolean().default(true),
    /** WWW-Authenticate: Key realm="<realm>" (none by default). */
    realm: z.string().optional(),
  })
  .strict();

type Conf = z.output<typeof schema>;

interface Found {
  key: unknown;
  where: 'header' | 'query' | 'body';
  name: string;
}

export function keyAuth(services: PluginServices) {
  return builtin({
    name: 'key-auth',
    priority: 1250,
    schema,
    methods: {
      access: (ngx, conf: Conf) => {
        if (!conf.run_on_preflight && isPreflight(ngx)) return undefined;
        if (alreadyAuthenticated(ngx, conf.anonymous)) return undefined;
        const found = findInRequest(ngx, conf);
        if (found !== undefined || !conf.key_in_body) return check(ngx, conf, services, found);
        return findInBody(ngx, conf).then((f) => check(ngx, conf, services, f));
      },
    },
  });
}

function check(ngx: Ngx, conf: Conf, services: PluginServices, found: Found | undefined): void {
  if (found === undefined) return failAuth(ngx, services, 'key-auth', conf.anonymous, 401, 'No API key found in request', challenge(conf));
  if (typeof found.key !== 'string') return kongExit(ngx, 401, 'Duplicate API key found', challenge(conf));
  const credential = services.consumers(ngx).byKey.get(found.key);
  if (credential === undefined) return failAuth(ngx, services, 'key-auth', conf.anonymous, 401, 'Unauthorized', challenge(conf));
  if (conf.hide_credentials) hide(ngx, found);
  authenticate(ngx, credential.consumer, credential);
}

function challenge(conf: Conf): Record<string, string> {
  return { 'WWW-Authenticate': conf.realm === undefined ? 'Key' : `Key realm="${conf.realm}"` };
}

function findInRequest(ngx: Ngx, conf: Conf): Found | undefined {
  let args: Record<string, unknown> | undefined;
  for (const name of conf.key_names) {
    if (conf.key_in_header) {
      // The first of repeated headers (Kong refuses repeated ones: "Duplicate API key found").
      const h = header(ngx, name);
      if (h !== undefined) return { key: h, where: 'header', name };
    }
    if (conf.key_in_query) {
      args ??= ngx.req.getUriArgs();
      const v = args[name];
      if (v !== undefined && v !== true) return { key: v, where: 'query', name };
    }
  }
  return undefined;
}

async function findInBody(ngx: Ngx, conf: Conf): Promise<Found | undefined> {
  await ngx.req.readBody();
  const type = String(ngx.var.content_type ?? '').toLowerCase();
  let body: Record<string, unknown> = {};
  if (type.startsWith('application/x-www-form-urlencoded')) body = ngx.req.getPostArgs();
  else if (type.startsWith('application/json')) {
    try {
      const parsed: unknown = JSON.parse(ngx.req.getBodyData() ?? '');
      if (typeof parsed === 'object' && parsed !== null) body = parsed as Record<string, unknown>;
    } catch {
      body = {};
    }
  }
  for (const name of conf.key_names) if (body[name] !== undefined) return { key: body[name], where: 'body', name };
  return undefined;
}

function hide(ngx: Ngx, found: Found): void {
  if (found.where === 'header') ngx.req.clearHeader(found.name);
  else if (found.where === 'query') {
    const args = ngx.req.getUriArgs();
    delete args[found.name];
    ngx.req.setUriArgs(args as Parameters<Ngx['req']['setUriArgs']>[0]);
  }
  // A key in the body stays: rewriting the body is request-transformer's job.
}
