// nginx's complex values: text with `$name`, `${name}` and `$1`…`$9` (the last regex's captures),
// compiled once, expanded per request through ngx.var.

import type { Ngx } from '@phasekit/core';

/** Captures of the last regex a rule matched (`rewrite`, `if ~`), or undefined to read the location's. */
export type Captures = readonly (string | undefined)[] | undefined;

export type Expand = (ngx: Ngx, captures?: Captures) => string;

type Part = string | { readonly name: string } | { readonly capture: number } | { readonly local: (ngx: Ngx) => string | undefined };

/** Variables a location defines itself (`$document_root`, `$request_filename` from its root). */
export type Locals = ReadonlyMap<string, (ngx: Ngx) => string | undefined>;

const NO_LOCALS: Locals = new Map();

/** `"a $arg_x ${http_host}b $1"` → a function of the request. */
export function compileTemplate(text: string, locals: Locals = NO_LOCALS): Expand {
  const parts: Part[] = [];
  const re = /\$(?:\{([A-Za-z0-9_]+)\}|([A-Za-z_][A-Za-z0-9_]*)|([0-9]))/g;
  let last = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    if (m.index > last) parts.push(text.slice(last, m.index));
    const name = (m[1] ?? m[2]) as string | undefined;
    if (m[3] !== undefined || (name !== undefined && /^[0-9]$/.test(name))) parts.push({ capture: Number(m[3] ?? name) });
    else {
      const lower = (name as string).toLowerCase();
      const local = locals.get(lower);
      parts.push(local === undefined ? { name: lower } : { local });
    }
    last = m.index + m[0].length;
  }
  if (last < text.length) parts.push(text.slice(last));
  if (parts.length === 0) return () => '';
  if (parts.length === 1 && typeof parts[0] === 'string') {
    const constant = parts[0];
    return () => constant;
  }
  return (ngx, captures) => {
    let out = '';
    for (const p of parts) {
      if (typeof p === 'string') out += p;
      else if ('capture' in p) out += captures !== undefined ? (captures[p.capture] ?? '') : String(ngx.var[String(p.capture)] ?? '');
      else if ('local' in p) out += p.local(ngx) ?? '';
      else out += String(ngx.var[p.name] ?? '');
    }
    return out;
  };
}


/** True when the text holds a variable or capture reference. */
export function hasVariables(text: string): boolean {
  return /\$(?:\{[A-Za-z0-9_]+\}|[A-Za-z0-9_])/.test(text);
}

/** A PCRE pattern as JavaScript reads it (`(?P<name>` → `(?<name>`). */
export function pcre(pattern: string, caseless = false): RegExp {
  return new RegExp(pattern.replace(/\(\?P</g, '(?<'), caseless ? 'i' : '');
}
