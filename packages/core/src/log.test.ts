import { describe, expect, it } from 'vitest';
import { formatLogLine, logMessage, type LogEntry } from './log.js';

const request: LogEntry = { level: 'warn', message: 'from log', time: 0, requestId: 7, phase: 'log', client: '127.0.0.1', request: 'GET / HTTP/1.1' };

describe('error-log lines', () => {
  it('a request line carries the request number, client and request line', () => {
    const line = formatLogLine({ ...request, phase: 'content' });
    expect(line).toMatch(/\[warn\] \d+#0: \*7 from log, client: 127\.0\.0\.1, server: , request: "GET \/ HTTP\/1\.1"$/);
  });

  it('a log-phase line ends " while logging request", before the client, as nginx writes it', () => {
    expect(logMessage(request)).toBe('from log while logging request');
    expect(formatLogLine(request)).toContain('*7 from log while logging request, client: 127.0.0.1');
  });

  it('a line outside a request has no context', () => {
    expect(logMessage({ level: 'error', message: 'timer', time: 0, phase: 'log' })).toBe('timer');
  });
});
