// The header filter of a location as nginx orders it: the content type by the URI's extension
// and the static module's status rules first (set before any filter runs), then
// header_filter_by_lua, then add_header (nginx's headers filter runs after lua-nginx-module's).

import { extname } from 'node:path';
import type { HandlerFn, Ngx } from '@phasekit/core';
import type { AddHeaderInput } from './schema.js';
import { compileTemplate, type Locals } from './template.js';

/** add_header applies to these statuses (any status with `always`). */
const STATUSES = new Set([200, 201, 204, 206, 301, 302, 303, 304, 307, 308]);

export interface HeaderFilterParts {
  /** Extension → MIME type: a response with the location's default type takes the URI extension's (nginx's `types`). */
  readonly types?: { readonly table: ReadonlyMap<string, string>; readonly defaultType: string } | undefined;
  /** A static location: Last-Modified and Accept-Ranges only on a 200 (an error page served from a file has neither). */
  readonly staticFile?: boolean;
  readonly addHeaders?: readonly AddHeaderInput[] | undefined;
  readonly locals: Locals;
}

/** Composes the location's header filter around its own (`inner`); undefined when there is nothing to add. */
export function headerFilter(parts: HeaderFilterParts, inner: HandlerFn | undefined): HandlerFn | undefined {
  const steps: ((ngx: Ngx) => void)[] = [];
  if (parts.types !== undefined && parts.types.table.size > 0) steps.push(typeByExtension(parts.types.table, parts.types.defaultType));
  if (parts.staticFile === true) steps.push(staticStatus);
  const add = parts.addHeaders !== undefined && parts.addHeaders.length > 0 ? addHeaders(parts.addHeaders, parts.locals) : undefined;
  if (steps.length === 0 && add === undefined) return inner;
  return (ngx) => {
    for (const step of steps) step(ngx);
    if (inner !== undefined) {
      const r = inner(ngx);
      if (r instanceof Promise) throw new Error('a header filter may not wait');
    }
    add?.(ngx);
  };
}

function typeByExtension(table: ReadonlyMap<string, string>, defaultType: string): (ngx: Ngx) => void {
  return (ngx) => {
    const ext = extname(String(ngx.var.uri ?? '')).slice(1).toLowerCase();
    if (ext === '') return;
    const type = table.get(ext);
    if (type !== undefined && ngx.header['Content-Type'] === defaultType) ngx.header['Content-Type'] = type;
  };
}

function staticStatus(ngx: Ngx): void {
  const status = ngx.status || 200;
  if (status !== 200 && status !== 304) ngx.header['Last-Modified'] = undefined;
  if (status !== 200) ngx.header['Accept-Ranges'] = undefined;
}

/** An empty value adds nothing; a header set already gets a second value. */
function addHeaders(entries: readonly AddHeaderInput[], locals: Locals): (ngx: Ngx) => void {
  const compiled = entries.map((e) => ({ name: e.name, value: compileTemplate(e.value, locals), always: e.always === true }));
  return (ngx) => {
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
