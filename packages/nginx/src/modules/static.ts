// Static files as nginx's static, index and try_files modules serve them: root or alias, index
// files (an internal redirect), a directory without its slash redirected, ETag/Last-Modified with
// If-None-Match/If-Modified-Since, the MIME type by extension.

import { readFile, stat } from 'node:fs/promises';
import { statSync, type Stats } from 'node:fs';
import { extname, resolve } from 'node:path';
import type { HandlerFn, Ngx } from '@phasekit/core';
import type { RedirectUrl } from './rules.js';
import { compileTemplate, type Expand, type Locals } from './template.js';

export interface StaticOptions {
  /** The location's match (`/s/`): alias replaces this prefix. */
  readonly match: string;
  /** Absolute folder of `root`, or undefined with alias. */
  readonly root: string | undefined;
  /** Absolute path of `alias`. */
  readonly alias: string | undefined;
  readonly index: readonly string[];
  readonly tryFiles: readonly string[] | undefined;
  readonly types: ReadonlyMap<string, string>;
  readonly logNotFound: boolean;
  readonly redirectUrl: RedirectUrl;
  readonly log: (ngx: Ngx, message: string) => void;
}

/** nginx's types when the config has no `types` block (and includes no mime.types). */
export const NGINX_TYPES: Readonly<Record<string, string[]>> = {
  'text/html': ['html'],
  'image/gif': ['gif'],
  'image/jpeg': ['jpg'],
};

/** type → extensions, as `types { }` gives them, into extension → type. */
export function typeTable(types: Readonly<Record<string, readonly string[]>>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [type, exts] of Object.entries(types)) for (const e of exts) out.set(e.toLowerCase(), type);
  return out;
}

/** The file a URI names under the location's root or alias. */
export function filePath(o: Pick<StaticOptions, 'root' | 'alias' | 'match'>, uri: string): string {
  if (o.alias !== undefined) {
    const prefix = o.match.replace(/^(\^~|=)\s*/, '');
    return o.alias + (uri.startsWith(prefix) ? uri.slice(prefix.length) : uri);
  }
  return (o.root ?? '') + uri;
}

/** `$document_root` and `$request_filename` for a location with root or alias. */
export function staticLocals(o: Pick<StaticOptions, 'root' | 'alias' | 'match'>): Locals {
  return new Map<string, (ngx: Ngx) => string | undefined>([
    ['document_root', () => o.root ?? o.alias],
    ['realpath_root', () => o.root ?? o.alias],
    ['request_filename', (ngx: Ngx) => filePath(o, String(ngx.var.uri ?? '/'))],
  ]);
}

const httpDate = (d: Date) => d.toUTCString();
const etagOf = (st: Stats) => `"${Math.floor(st.mtimeMs / 1000).toString(16)}-${st.size.toString(16)}"`;

/** The content handler: try_files first when given, else the URI itself. */
export function staticHandler(o: StaticOptions): HandlerFn {
  const tries = o.tryFiles?.slice(0, -1).map((t) => compileTemplate(t, staticLocals(o)));
  const fallback = o.tryFiles?.[o.tryFiles.length - 1];
  const fallbackUri = fallback === undefined ? undefined : compileTemplate(fallback, staticLocals(o));
  return async (ngx) => {
    if (tries === undefined) return serve(o, ngx, String(ngx.var.uri ?? '/'));
    const found = tryFiles(o, ngx, tries);
    if (found !== undefined) return serve(o, ngx, found);
    return goTo(ngx, fallback as string, fallbackUri as Expand);
  };
}

function tryFiles(o: StaticOptions, ngx: Ngx, tries: readonly Expand[]): string | undefined {
  for (const t of tries) {
    const uri = t(ngx);
    const st = statSync(filePath(o, uri), { throwIfNoEntry: false });
    if (st === undefined) continue;
    if (uri.endsWith('/') ? st.isDirectory() : st.isFile()) return uri;
  }
  return undefined;
}

/** try_files' last argument: `=404`, `@named`, or a URI (with arguments). */
function goTo(ngx: Ngx, raw: string, uri: Expand): void {
  if (/^=\d+$/.test(raw)) return ngx.exit(Number(raw.slice(1)));
  const target = uri(ngx);
  if (target.startsWith('@')) return ngx.exec(target);
  const q = target.indexOf('?');
  if (q === -1) return ngx.exec(target, String(ngx.var.args ?? ''));
  return ngx.exec(target.slice(0, q), target.slice(q + 1));
}

async function serve(o: StaticOptions, ngx: Ngx, uri: string): Promise<void> {
  const method = ngx.req.getMethod();
  if (method !== 'GET' && method !== 'HEAD' && method !== 'POST') return ngx.exit(405);
  const path = filePath(o, uri);
  if (uri.endsWith('/')) return index(o, ngx, uri, path);
  const st = await stat(path).catch(() => undefined);
  if (st === undefined) {
    if (o.logNotFound) o.log(ngx, `open() "${path}" failed (2: No such file or directory)`);
    return ngx.exit(404);
  }
  if (st.isDirectory()) {
    const args = String(ngx.var.args ?? '');
    return ngx.redirect(o.redirectUrl(ngx, `${uri}/${args === '' ? '' : `?${args}`}`), 301);
  }
  if (method === 'POST') return ngx.exit(405);
  const etag = etagOf(st);
  const lastModified = httpDate(st.mtime);
  const type = o.types.get(extname(path).slice(1).toLowerCase());
  if (type !== undefined) ngx.header['Content-Type'] = type;
  ngx.header['Last-Modified'] = lastModified;
  ngx.header.ETag = etag;
  const inm = ngx.var.http_if_none_match;
  const ims = ngx.var.http_if_modified_since;
  if ((inm !== undefined && inm !== null && (inm === etag || inm === '*')) || (inm === undefined && ims === lastModified)) {
    ngx.header['Content-Type'] = undefined;
    return ngx.exit(304);
  }
  ngx.header['Accept-Ranges'] = 'bytes';
  ngx.header['Content-Length'] = st.size;
  if (method === 'HEAD') return ngx.exit(200);
  ngx.print(await readFile(path));
}

/** A URI ending in "/": the first index file that exists, by an internal redirect (as nginx). */
async function index(o: StaticOptions, ngx: Ngx, uri: string, dir: string): Promise<void> {
  for (const name of o.index) {
    const st = await stat(resolve(dir, name)).catch(() => undefined);
    if (st !== undefined) return ngx.exec(uri + name);
  }
  const st = await stat(dir).catch(() => undefined);
  if (st?.isDirectory() === true) {
    o.log(ngx, `directory index of "${dir}" is forbidden`);
    return ngx.exit(403);
  }
  if (o.logNotFound) o.log(ngx, `"${dir}${o.index[o.index.length - 1] ?? 'index.html'}" is not found (2: No such file or directory)`);
  return ngx.exit(404);
}
