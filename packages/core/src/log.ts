// Error-log entries, levels, and the default logger that writes nginx-style lines to stderr.

import { LOG_LEVEL_NAMES, type LogLevel } from './ngx/constants.js';

export interface LogEntry {
  level: LogLevel;
  message: string;
  /** ms since the epoch, from the engine's clock. */
  time: number;
  /** The request's sequence number (nginx's `*N`), when there is a request. */
  requestId?: number;
  phase?: string;
  location?: string;
  client?: string;
  /** The request line, `GET /x HTTP/1.1`. */
  request?: string;
  err?: unknown;
}

export type Logger = (entry: LogEntry) => void;

/** Rank of a level: lower is more severe (`stderr` 0 … `debug` 8), as ngx.ERR etc. */
export function levelRank(level: LogLevel): number {
  return LOG_LEVEL_NAMES.indexOf(level);
}

const pad = (n: number) => (n < 10 ? `0${n}` : String(n));

/** The entry's message with nginx's context: a log-phase line ends " while logging request". */
export function logMessage(e: LogEntry): string {
  return e.phase === 'log' && e.requestId !== undefined ? `${e.message} while logging request` : e.message;
}

/** `2026/11/21 21:33:31 [error] 4242#0: *7 message, client: 127.0.0.1, server: , request: "GET / HTTP/1.1"` */
export function formatLogLine(e: LogEntry): string {
  const d = new Date(e.time);
  const stamp = `${d.getFullYear()}/${pad(d.getMonth() + 1)}/${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  let line = `${stamp} [${e.level === 'stderr' ? 'notice' : e.level}] ${process.pid}#0: `;
  if (e.requestId !== undefined) line += `*${e.requestId} `;
  line += logMessage(e);
  if (e.client !== undefined) line += `, client: ${e.client}, server: `;
  if (e.request !== undefined) line += `, request: "${e.request}"`;
  return line;
}

export const stderrLogger: Logger = (e) => {
  process.stderr.write(formatLogLine(e) + '\n');
};
