// Shared helpers for integration tests: an engine with captured logs.

import { createEngine, type EngineConfig, type EngineOptions, type LogEntry } from '@phasekit/core';

export async function engineWithLogs(config: EngineConfig, options: EngineOptions = {}) {
  const logs: LogEntry[] = [];
  const engine = await createEngine(config, { logger: (e) => logs.push(e), ...options });
  return { engine, logs };
}
