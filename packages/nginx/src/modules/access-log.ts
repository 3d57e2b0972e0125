// access_log and log_format: one line per request in the log phase, in nginx's formats
// (`combined` built in), to a file (appended), stdout or stderr.

import { closeSync, openSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Ngx } from '@phasekit/core';

export const COMBINED = '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"';

type Part = string | { readonly name: string };

/** A compiled log_format: the line for a request. */
export type LogLine = (ngx: Ngx) => string;

/** nginx's default escaping in log lines: `"`, `\` and bytes outside printable ASCII as \xHH. */
function escape(value: string): string {
  // eslint-disable-next-line no-control-regex
  if (!/["\\\x00-\x1f\x7f-\uffff]/.test(value)) return value;
  let out = '';
  for (const byte of Buffer.from(value)) {
    out += byte === 0x22 || byte === 0x5c || byte < 0x20 || byte > 0x7e ? `\\x${byte.toString(16).toUpperCase().padStart(2, '0')}` : String.fromCharCode(byte);
  }
  return out;
}

export function compileLogFormat(format: string): LogLine {
  const parts: Part[] = [];
  const re = /\$(?:\{([A-Za-z0-9_]+)\}|([A-Za-z_][A-Za-z0-9_]*))/g;
  let last = 0;
  for (let m = re.exec(format); m !== null; m = re.exec(format)) {
    if (m.index > last) parts.push(format.slice(last, m.index));
    parts.push({ name: ((m[1] ?? m[2]) as string).toLowerCase() });
    last = m.index + m[0].length;
  }
  if (last < format.length) parts.push(format.slice(last));
  return (ngx) => {
    let out = '';
    for (const p of parts) {
      if (typeof p === 'string') out += p;
      else {
        const v = ngx.var[p.name];
        out += v === undefined || v === null ? '-' : escape(String(v));
      }
    }
    return out;
  };
}

/**
 * Where lines go: one append-mode descriptor per file, shared by the locations of a generation.
 * A line is written when the request's log phase runs, as nginx writes it (unbuffered).
 */
export class LogSinks {
  readonly #prefix: string;
  readonly #files = new Map<string, number>();

  constructor(prefix: string) {
    this.#prefix = prefix;
  }

  /**
   * A writer for `path`: `stdout`, `stderr` (or /dev/stdout, /dev/stderr), or a file under the
   * prefix, opened (created) now as nginx opens its logs at start; throws when it cannot be.
   */
  writer(path: string): (line: string) => void {
    if (path === 'stdout' || path === '/dev/stdout') return (line) => void process.stdout.write(`${line}\n`);
    if (path === 'stderr' || path === '/dev/stderr') return (line) => void process.stderr.write(`${line}\n`);
    const full = resolve(this.#prefix, path);
    let fd = this.#files.get(full);
    if (fd === undefined) {
      try {
        fd = openSync(full, 'a');
      } catch (err) {
        throw new Error(`open() "${full}" failed (${(err as Error).message})`, { cause: err });
      }
      this.#files.set(full, fd);
    }
    const out = fd;
    return (line) => {
      try {
        writeSync(out, `${line}\n`);
      } catch (err) {
        process.stderr.write(`access_log "${full}": ${(err as Error).message}\n`);
      }
    };
  }

  close(): void {
    for (const fd of this.#files.values()) closeSync(fd);
    this.#files.clear();
  }
}
