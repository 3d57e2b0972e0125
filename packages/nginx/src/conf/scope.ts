// What a location inherits from server and http levels, as nginx merges its configuration: a value
// given lower wins; add_header, error_page, access_log and proxy_set_header are inherited only by
// a level that gives none of its own.

import type { HandlerSpec } from '@phasekit/core';
import type { AccessLogInput, AddHeaderInput, ErrorPageInput } from '../modules/schema.js';

export interface ProxySettings {
  setHeaders?: [name: string, value: string][];
  connectTimeout?: number;
  sendTimeout?: number;
  readTimeout?: number;
  nextUpstream?: string[];
  nextUpstreamTries?: number;
}

export type InheritedPhase = 'rewrite' | 'access' | 'headerFilter' | 'bodyFilter' | 'log';

export interface Scope {
  defaultType?: string;
  root?: string;
  index?: string[];
  addHeaders?: AddHeaderInput[];
  errorPages?: ErrorPageInput[];
  accessLog?: AccessLogInput;
  clientMaxBodySize?: string;
  clientBodyBufferSize?: string;
  needRequestBody?: boolean;
  checkClientAbort?: boolean;
  codeCache?: boolean;
  logNotFound?: boolean;
  absoluteRedirect?: boolean;
  portInRedirect?: boolean;
  proxy: ProxySettings;
  handlers: Partial<Record<InheritedPhase, HandlerSpec>>;
}

/** A child scope: everything inherited; lists a level sets itself start empty there (see `own`). */
export function childScope(parent: Scope): Scope {
  return { ...parent, proxy: { ...parent.proxy }, handlers: { ...parent.handlers } };
}

/** Marks which inherited lists a level has begun to give itself (the first directive replaces the parent's list). */
export class OwnLists {
  readonly #started = new Set<string>();

  /** The list to append to for `key`: a fresh one the first time this level names it. */
  list<T>(key: string, current: T[] | undefined, set: (v: T[]) => void): T[] {
    if (!this.#started.has(key) || current === undefined) {
      this.#started.add(key);
      const fresh: T[] = [];
      set(fresh);
      return fresh;
    }
    return current;
  }
}

/** nginx time values: `30`, `30s`, `500ms`, `1m`, `1h` → seconds. Undefined when it is not one. */
export function parseTime(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text);
  if (m === null) return undefined;
  const n = Number(m[1]);
  switch (m[2]) {
    case 'ms':
      return n / 1000;
    case 'm':
      return n * 60;
    case 'h':
      return n * 3600;
    case 'd':
      return n * 86400;
    default:
      return n;
  }
}

/** nginx sizes: `1m`, `512k`, `100` (bytes). */
export function isSize(text: string): boolean {
  return /^\d+[kKmMgG]?$/.test(text);
}
