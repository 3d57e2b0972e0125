// Test helpers: an engine with the Lua runtime and captured logs; one-location shorthands.
import { createEngine, inject, type EngineConfig, type LocationConfig, type LogEntry } from 'phasekit';

export async function luaEngine(config: EngineConfig) {
  const logs: LogEntry[] = [];
  const engine = await createEngine(config, { logger: (e) => logs.push(e) });
  return { engine, logs };
}

/** One location at `/` with the given phase handlers as Lua source. */
export async function luaLocation(phases: Partial<Record<'rewrite' | 'access' | 'content' | 'headerFilter' | 'bodyFilter' | 'log', string>>, extra: Partial<LocationConfig> & { sharedDicts?: Record<string, string> } = {}) {
  const { sharedDicts, ...loc } = extra;
  const location: LocationConfig = { match: '/', ...loc };
  for (const [phase, lua] of Object.entries(phases)) (location as unknown as Record<string, unknown>)[phase] = { lua };
  const config: EngineConfig = { locations: [location] };
  if (sharedDicts) config.sharedDicts = sharedDicts;
  return luaEngine(config);
}

/** Runs `content` Lua for one request and returns the response with the logs. */
export async function runContent(lua: string, req: Parameters<typeof inject>[1] = '/', extra: Parameters<typeof luaLocation>[1] = {}) {
  const { engine, logs } = await luaLocation({ content: lua }, extra);
  const res = await inject(engine, req);
  await engine.close();
  return { res, logs };
}
