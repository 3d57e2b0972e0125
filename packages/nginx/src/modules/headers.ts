// add_header: response headers added after header_filter_by_lua (as nginx's headers filter runs
// after lua-nginx-module's), for 2xx/3xx answers — for every status with `always`.

import type { HandlerFn } from '@phasekit/core';
import type { AddHeaderInput } from './schema.js';
import { compileTemplate, type Locals } from './template.js';

const STATUSES = new Set([200, 201, 204, 206, 301, 302, 303, 304, 307, 308]);

/** Wraps a location's header filter: the filter first, then the headers. An empty value adds nothing. */
export function addHeadersFilter(entries: readonly AddHeaderInput[], locals: Locals, inner: HandlerFn | undefined): HandlerFn {
  const compiled = entries.map((e) => ({ name: e.name, value: compileTemplate(e.value, locals), always: e.always === true }));
  return (ngx) => {
    if (inner !== undefined) {
      const r = inner(ngx);
      if (r instanceof Promise) throw new Error('a header filter may not wait');
    }
    const ok = STATUSES.has(ngx.status || 200);
    for (const h of compiled) {
      if (!h.always && !ok) continue;
      const value = h.value(ngx);
      if (value === '') continue;
      const current = ngx.header[h.name];
      if (current === undefined || current === null) ngx.header[h.name] = value;
      else ngx.header[h.name] = [...(Array.isArray(current) ? current : [String(current)]), value];
    }
  };
}
