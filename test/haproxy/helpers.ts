// Helpers for the HAProxy-context tests: luaLoad files in a temp dir, an engine with captured logs.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEngine, type EngineConfig, type EngineOptions, type LogEntry } from 'phasekit';

/** Writes `files` (name → Lua source) to a fresh temp dir and returns it. */
export function luaDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'phasekit-haproxy-'));
  for (const [name, source] of Object.entries(files)) writeFileSync(join(dir, name), source);
  return dir;
}

/** An engine whose `luaLoad` is `files` (in order), with its logs captured (down to debug). */
export async function hxEngine(files: Record<string, string>, config: Omit<EngineConfig, 'luaLoad'>, options: EngineOptions = {}) {
  const logs: LogEntry[] = [];
  const dir = luaDir(files);
  const engine = await createEngine(
    { errorLogLevel: 'debug', ...config, lua: { ...config.lua, prefix: dir }, luaLoad: Object.keys(files) },
    { logger: (e) => logs.push(e), ...options },
  );
  return { engine, logs, dir };
}

/** The messages of the captured log entries. */
export const messages = (logs: readonly LogEntry[]) => logs.map((l) => l.message);
