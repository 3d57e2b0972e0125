// Helpers for the plugin tests: Lua plugins written to a temp dir in Kong's layout, an engine with
// captured logs, an echo backend that answers with what it received.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createEngine, type EngineConfig, type EngineOptions, type LogEntry } from 'phasekit';

/** Writes `files` (relative path → content) into a fresh temp dir; returns the dir. */
export function writeDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'phasekit-plugins-'));
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
  return dir;
}

/** Lua plugins (name → { handler, schema? } sources) in Kong's layout under phasekit/plugins/. */
export function luaPlugins(plugins: Record<string, { handler: string; schema?: string }>): string {
  const files: Record<string, string> = {};
  for (const [name, p] of Object.entries(plugins)) {
    files[`phasekit/plugins/${name}/handler.lua`] = p.handler;
    if (p.schema !== undefined) files[`phasekit/plugins/${name}/schema.lua`] = p.schema;
  }
  return writeDir(files);
}

/** An engine with its logs captured; `dir` becomes lua.prefix (plugins found on ./?.lua). */
export async function pluginEngine(config: EngineConfig, options: EngineOptions & { dir?: string } = {}) {
  const logs: LogEntry[] = [];
  const { dir, ...rest } = options;
  const engine = await createEngine(dir === undefined ? config : { ...config, lua: { ...config.lua, prefix: dir } }, { logger: (e) => logs.push(e), ...rest });
  return { engine, logs, messages: () => logs.map((l) => l.message) };
}

/** Starts `fn` with the engine config's errors caught: the ConfigError's message. */
export async function startError(config: EngineConfig, options: EngineOptions & { dir?: string } = {}): Promise<Error & { code?: string; issues?: { path: string; message: string }[] }> {
  try {
    const { engine } = await pluginEngine(config, options);
    await engine.close();
  } catch (err) {
    return err as Error;
  }
  throw new Error('the engine started');
}

export interface Echo {
  readonly address: string;
  readonly seen: { method: string; url: string; headers: Record<string, string | string[] | undefined> }[];
  close(): Promise<void>;
}

/** A backend that answers 200 with JSON of the request it got (and records it). */
export async function echoBackend(name = 'echo'): Promise<Echo> {
  const seen: Echo['seen'] = [];
  const server: Server = createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    res.writeHead(200, { 'content-type': 'application/json', 'x-backend': name, 'x-upstream-only': 'yes' });
    res.end(JSON.stringify({ backend: name, method: req.method, url: req.url, headers: req.headers }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
