// Shared helpers for integration tests: an engine with captured logs, one HTTP request read whole.

import { createEngine, type EngineConfig, type EngineOptions, type LogEntry } from '@phasekit/core';
import { request } from 'undici';

export async function engineWithLogs(config: EngineConfig, options: EngineOptions = {}) {
  const logs: LogEntry[] = [];
  const engine = await createEngine(config, { logger: (e) => logs.push(e), ...options });
  return { engine, logs };
}

/** One request with undici; the answer's status, headers and body as text. */
export async function fetchText(url: string, init: Parameters<typeof request>[1] = {}) {
  const res = await request(url, init);
  return { status: res.statusCode, headers: res.headers, body: await res.body.text() };
}
