// request-transformer: before the request is proxied, remove, rename, replace, add and append
// (in that order, as Kong) request headers and query arguments; replace the URI and the method.

import type { Ngx } from '@phasekit/core';
import { z } from 'zod';
import { builtin } from './common.js';
import { pair, pairs, rename } from './transform.js';

const lists = (item: z.ZodString) => z.object({ headers: z.array(item).default([]), querystring: z.array(item).default([]) }).strict().default({ headers: [], querystring: [] });

const schema = z
  .object({
    http_method: z.string().regex(/^[A-Z]+$/, 'expected an upper-case method name').optional(),
    remove: lists(z.string().min(1)),
    rename: lists(rename),
    replace: z
      .object({ headers: z.array(pair).default([]), querystring: z.array(pair).default([]), uri: z.string().startsWith('/').optional() })
      .strict()
      .default({ headers: [], querystring: [] }),
    add: lists(pair),
    append: lists(pair),
  })
  .strict();

type Conf = z.output<typeof schema>;

interface Ops {
  remove: string[];
  rename: [string, string][];
  replace: [string, string][];
  add: [string, string][];
  append: [string, string][];
}

interface Prepared {
  readonly method: string | undefined;
  readonly uri: string | undefined;
  readonly headers: Ops | undefined;
  readonly query: Ops | undefined;
}

function ops(conf: Conf, key: 'headers' | 'querystring'): Ops | undefined {
  const o: Ops = {
    remove: conf.remove[key],
    rename: pairs(conf.rename[key]),
    replace: pairs(conf.replace[key]),
    add: pairs(conf.add[key]),
    append: pairs(conf.append[key]),
  };
  return o.remove.length + o.rename.length + o.replace.length + o.add.length + o.append.length === 0 ? undefined : o;
}

export function requestTransformer() {
  return builtin({
    name: 'request-transformer',
    priority: 801,
    schema,
    prepare: (conf): Prepared => ({ method: conf.http_method, uri: conf.replace.uri, headers: ops(conf, 'headers'), query: ops(conf, 'querystring') }),
    methods: {
      access: (ngx, conf: Prepared) => {
        if (conf.method !== undefined) ngx.req.setMethod(conf.method);
        if (conf.uri !== undefined) ngx.req.setUri(conf.uri);
        if (conf.headers !== undefined) transformHeaders(ngx, conf.headers);
        if (conf.query !== undefined) transformQuery(ngx, conf.query);
      },
    },
  });
}

function transformHeaders(ngx: Ngx, o: Ops): void {
  const req = ngx.req;
  let current = req.getHeaders();
  const has = (name: string) => current[name.toLowerCase()] !== undefined;
  for (const name of o.remove) req.clearHeader(name);
  if (o.remove.length > 0) current = req.getHeaders();
  for (const [from, to] of o.rename) {
    const v = current[from.toLowerCase()];
    if (v === undefined) continue;
    req.clearHeader(from);
    req.setHeader(to, v);
    current = req.getHeaders();
  }
  for (const [name, value] of o.replace) if (has(name)) req.setHeader(name, value);
  for (const [name, value] of o.add) if (!has(name)) req.setHeader(name, value);
  for (const [name, value] of o.append) {
    current = req.getHeaders();
    const prior = current[name.toLowerCase()];
    req.setHeader(name, prior === undefined ? value : [...(Array.isArray(prior) ? prior : [prior]), value]);
  }
}

function transformQuery(ngx: Ngx, o: Ops): void {
  const args = ngx.req.getUriArgs() as Record<string, string | boolean | (string | boolean)[]>;
  for (const name of o.remove) delete args[name];
  for (const [from, to] of o.rename) {
    if (args[from] === undefined) continue;
    args[to] = args[from] as string;
    delete args[from];
  }
  for (const [name, value] of o.replace) if (args[name] !== undefined) args[name] = value;
  for (const [name, value] of o.add) if (args[name] === undefined) args[name] = value;
  for (const [name, value] of o.append) {
    const prior = args[name];
    args[name] = prior === undefined ? value : [...(Array.isArray(prior) ? prior : [prior]), value];
  }
  ngx.req.setUriArgs(args);
}
