// error_page → the engine's error-page hook: a status, the target (URI, @named, URL) and the answer's status.

import type { ErrorPageTarget } from '@phasekit/core';
import type { ErrorPageInput } from './schema.js';

/** Compiles a location's error_page entries; throws for a target with variables (not supported). */
export function compileErrorPages(pages: readonly ErrorPageInput[]): (status: number) => ErrorPageTarget | undefined {
  const byStatus = new Map<number, ErrorPageTarget>();
  for (const p of pages) {
    if (p.target.includes('$')) throw new Error(`variables in the error_page target "${p.target}" are not supported by phasekit`);
    const target = targetOf(p);
    for (const code of p.codes) if (!byStatus.has(code)) byStatus.set(code, target);
  }
  return (status) => byStatus.get(status);
}

function targetOf(p: ErrorPageInput): ErrorPageTarget {
  if (p.target.startsWith('@')) return { kind: 'named', name: p.target.slice(1), status: p.status };
  if (/^https?:\/\//.test(p.target)) return { kind: 'url', url: p.target, status: typeof p.status === 'number' ? p.status : 302 };
  const q = p.target.indexOf('?');
  return { kind: 'uri', uri: q === -1 ? p.target : p.target.slice(0, q), args: q === -1 ? '' : p.target.slice(q + 1), status: p.status };
}
