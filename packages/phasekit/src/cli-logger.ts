// nginx's error_log to a file: the engine's log lines appended there, in nginx's format.

import { closeSync, openSync, writeSync } from 'node:fs';
import { formatLogLine, type Logger } from '@phasekit/core';

/** A logger appending nginx-style lines to `file` (opened now; stderr when it cannot be). */
export function fileLogger(file: string): Logger {
  let fd: number;
  try {
    fd = openSync(file, 'a');
  } catch (err) {
    process.stderr.write(`error_log "${file}": ${(err as Error).message}; logging to stderr\n`);
    return (e) => void process.stderr.write(`${formatLogLine(e)}\n`);
  }
  process.once('exit', () => closeSync(fd));
  return (e) => void writeSync(fd, `${formatLogLine(e)}\n`);
}
