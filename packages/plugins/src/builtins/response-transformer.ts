// response-transformer: in header_filter, remove, rename, replace, add and append (in that order,
// as Kong) response headers.

import type { Ngx } from '@phasekit/core';
import { z } from 'zod';
import { builtin } from './common.js';
import { pair, pairs, rename } from './transform.js';

const lists = (item: z.ZodString) => z.object({ headers: z.array(item).default([]) }).strict().default({ headers: [] });

const schema = z
  .object({
    remove: lists(z.string().min(1)),
    rename: lists(rename),
    replace: lists(pair),
    add: lists(pair),
    append: lists(pair),
  })
  .strict();

interface Prepared {
  remove: string[];
  rename: [string, string][];
  replace: [string, string][];
  add: [string, string][];
  append: [string, string][];
}

export function responseTransformer() {
  return builtin({
    name: 'response-transformer',
    priority: 800,
    schema,
    prepare: (conf): Prepared => ({
      remove: conf.remove.headers,
      rename: pairs(conf.rename.headers),
      replace: pairs(conf.replace.headers),
      add: pairs(conf.add.headers),
      append: pairs(conf.append.headers),
    }),
    methods: {
      headerFilter: (ngx, conf: Prepared) => transform(ngx, conf),
    },
  });
}

function transform(ngx: Ngx, o: Prepared): void {
  const h = ngx.header;
  for (const name of o.remove) h[name] = undefined;
  for (const [from, to] of o.rename) {
    const v = h[from];
    if (v === undefined || v === null) continue;
    h[from] = undefined;
    h[to] = v;
  }
  for (const [name, value] of o.replace) if (h[name] !== undefined && h[name] !== null) h[name] = value;
  for (const [name, value] of o.add) if (h[name] === undefined || h[name] === null) h[name] = value;
  for (const [name, value] of o.append) {
    const prior = h[name];
    h[name] = prior === undefined || prior === null ? value : [...(Array.isArray(prior) ? prior.map(String) : [String(prior)]), value];
  }
}
