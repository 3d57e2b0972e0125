// What the CLI prints: start-up lines a person can read (listening addresses, shared dicts,
// workers, ignored directives), colors only on a terminal, nothing but errors with --quiet.

import type { IgnoredDirective } from '@phasekit/nginx';
import { relative } from 'node:path';

const CODES = { bold: [1, 22], dim: [2, 22], green: [32, 39], yellow: [33, 39], red: [31, 39], cyan: [36, 39] } as const;
export type Style = keyof typeof CODES;

/** Prints lines to stdout (or stderr); styles are ANSI colors when `color` is on. */
export class Output {
  readonly quiet: boolean;
  readonly #color: boolean;

  constructor(options: { quiet?: boolean; color?: boolean } = {}) {
    this.quiet = options.quiet === true;
    this.#color = options.color ?? (process.stdout.isTTY === true && process.env.NO_COLOR === undefined && process.env.TERM !== 'dumb');
  }

  style(text: string, ...styles: Style[]): string {
    if (!this.#color) return text;
    return styles.reduce((t, s) => `\x1b[${CODES[s][0]}m${t}\x1b[${CODES[s][1]}m`, text);
  }

  /** An informational line (not with --quiet). */
  info(line: string): void {
    if (!this.quiet) process.stdout.write(`${line}\n`);
  }

  /** A line always printed (results of check, the output of run). */
  out(line: string): void {
    process.stdout.write(`${line}\n`);
  }

  error(line: string): void {
    process.stderr.write(`${this.#color && process.stderr.isTTY === true ? this.style(line, 'red') : line}\n`);
  }
}

/** `sendfile (nginx.conf:12)`, paths shown relative to the current folder. */
export function placeOf(d: Pick<IgnoredDirective, 'file' | 'line'>): string {
  const rel = relative(process.cwd(), d.file);
  return `${rel === '' || rel.startsWith('..') ? d.file : rel}:${d.line}`;
}

/** The ignored directives, once each, with why. */
export function printIgnored(o: Output, ignored: readonly IgnoredDirective[]): void {
  if (ignored.length === 0) return;
  o.info(o.style(`ignored directives (${ignored.length}), accepted without effect:`, 'yellow'));
  for (const d of ignored) o.info(`  ${d.name.padEnd(28)} ${o.style(`${placeOf(d)}  ${d.note}`, 'dim')}`);
}

/** `dogs 1m, sessions 10m (redis://cache:6379/0)`: the shared dicts of a config. */
export function describeDicts(dicts: Readonly<Record<string, unknown>>): string {
  return Object.entries(dicts)
    .map(([name, d]) => {
      if (typeof d !== 'object' || d === null) return `${name} ${String(d)}`;
      const { size, store } = d as { size?: unknown; store?: unknown };
      // A Redis URL's password stays out of the output.
      const where = typeof store === 'string' ? ` (${store.replace(/\/\/[^@/]*@/, '//')})` : '';
      return `${name} ${String(size)}${where}`;
    })
    .join(', ');
}
