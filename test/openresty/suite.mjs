// The differential suite's shared parts: where things live, loading and checking case files,
// filling the port placeholders, and turning nginx's error log into comparable lines.

import { mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { createServer } from 'node:net';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The suite's folder (test/openresty). */
export const SUITE_DIR = fileURLToPath(new URL('.', import.meta.url)).replace(/\/$/, '');
export const CASES_DIR = `${SUITE_DIR}/cases`;
export const RECORDINGS_DIR = `${SUITE_DIR}/recordings`;

/** Area names: the case files in cases/, without `.mjs`, sorted. */
export function listAreas() {
  return readdirSync(CASES_DIR)
    .filter((f) => f.endsWith('.mjs'))
    .map((f) => f.slice(0, -4))
    .sort();
}

const CASE_KEYS = new Set(['name', 'conf', 'files', 'sharedDicts', 'init', 'initWorker', 'lua', 'upstreams', 'clientBodyBufferSize', 'clientMaxBodySize', 'locations', 'requests', 'log']);
const LOCATION_KEYS = new Set(['match', 'vars', 'set', 'rewrite', 'access', 'content', 'headerFilter', 'bodyFilter', 'log', 'internal', 'proxyPass', 'defaultType']);
const REQUEST_KEYS = new Set(['method', 'path', 'headers', 'body', 'http', 'raw']);

/** Throws on a key the generators do not map, so a typo cannot silently drop part of a case. */
export function checkCase(c, area) {
  const where = `${area}: case ${JSON.stringify(c.name)}`;
  if (typeof c.name !== 'string' || c.name === '') throw new Error(`${area}: a case without a name`);
  for (const k of Object.keys(c)) if (!CASE_KEYS.has(k)) throw new Error(`${where}: unknown key "${k}"`);
  if (c.conf !== undefined) {
    // A raw nginx.conf case: the http block's content, as both sides read it.
    if (typeof c.conf !== 'string') throw new Error(`${where}: conf is the http block's text`);
    for (const k of ['sharedDicts', 'init', 'initWorker', 'lua', 'upstreams', 'clientBodyBufferSize', 'clientMaxBodySize', 'locations']) {
      if (c[k] !== undefined) throw new Error(`${where}: a conf case gives "${k}" in its conf`);
    }
  } else if (!Array.isArray(c.locations)) throw new Error(`${where}: no locations`);
  if (c.files !== undefined && (typeof c.files !== 'object' || Object.keys(c.files).some((f) => f.startsWith('/') || f.includes('..')))) {
    throw new Error(`${where}: files maps paths under the prefix to their text`);
  }
  if (!Array.isArray(c.requests) || c.requests.length === 0) throw new Error(`${where}: no requests`);
  for (const loc of c.locations ?? []) for (const k of Object.keys(loc)) if (!LOCATION_KEYS.has(k)) throw new Error(`${where}: unknown location key "${k}"`);
  for (const r of c.requests) for (const k of Object.keys(r)) if (!REQUEST_KEYS.has(k)) throw new Error(`${where}: unknown request key "${k}"`);
}

/** The cases of one area, checked. */
export async function loadArea(area) {
  const mod = await import(pathToFileURL(`${CASES_DIR}/${area}.mjs`).href);
  const cases = mod.default;
  if (!Array.isArray(cases)) throw new Error(`cases/${area}.mjs must export an array as default`);
  const names = new Set();
  for (const c of cases) {
    checkCase(c, area);
    if (names.has(c.name)) throw new Error(`${area}: two cases named ${JSON.stringify(c.name)}`);
    names.add(c.name);
  }
  return cases;
}

/**
 * A copy of the case with `$PORT` (the server's own port) and `$DEAD_PORT` (a local port where
 * nothing listens) replaced in every string: Lua code, vars, proxyPass, upstream servers, paths.
 */
export function fillPlaceholders(value, ports) {
  if (typeof value === 'string') return value.replace(/\$PORT\b/g, String(ports.port)).replace(/\$DEAD_PORT\b/g, String(ports.deadPort));
  if (Array.isArray(value)) return value.map((v) => fillPlaceholders(v, ports));
  if (value !== null && typeof value === 'object') {
    const out = {};
    for (const [k, v] of Object.entries(value)) out[k] = fillPlaceholders(v, ports);
    return out;
  }
  return value;
}

/** When case files were last modified: fixed, so Last-Modified and ETag are the same on both sides. */
export const FILES_MTIME = new Date('2020-01-02T03:04:05Z');

/** Writes a case's `files` (path under the prefix → text; a path ending in "/" is a folder) into `prefix`. */
export function writeCaseFiles(testCase, prefix) {
  for (const [path, text] of Object.entries(testCase.files ?? {})) {
    const full = `${prefix}/${path}`;
    mkdirSync(path.endsWith('/') ? full : dirname(full), { recursive: true, mode: 0o755 });
    if (!path.endsWith('/')) {
      writeFileSync(full, text, { mode: 0o644 });
      utimesSync(full, FILES_MTIME, FILES_MTIME);
    }
  }
}

/** A port nothing listens on right now (bound, then closed). */
export function closedPort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Levels kept in the recordings: warn and above. */
export const KEPT_LEVELS = new Set(['stderr', 'emerg', 'alert', 'crit', 'error', 'warn']);

// A line of the error log, or of what nginx writes to stderr before it opens the log file
// (init_by_lua runs then): `nginx: [warn] ...`.
const ENTRY_START = /^(?:\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d \[(\w*)\] \d+#\d+: |nginx: \[(\w*)\] )/;

/** Machine paths out: the run's prefix reads `$prefix`; Lua library files are named from their package root (`resty/core/exit.lua`). */
export function stripMachinePaths(text, prefix) {
  if (prefix !== undefined) text = text.split(prefix).join('$prefix');
  return text.replace(/(?:\/[\w.+-]+)+\/lua\/5\.1\//g, '');
}

/**
 * nginx error-log text → kept entries, normalized: `[level] message` with the timestamp,
 * `pid#tid:`, the `*N` connection number and the `, client: …, server: …, request: …` tail
 * stripped. An entry may span lines (Lua tracebacks). Machine paths go too: the run's
 * prefix reads `$prefix`, and Lua library files (lua-resty-core) are named from their
 * package root (`resty/core/exit.lua`).
 */
export function normalizeNginxLog(text, prefix) {
  text = stripMachinePaths(text, prefix);
  const entries = [];
  for (const line of text.split('\n')) {
    const m = ENTRY_START.exec(line);
    const level = m?.[1] ?? m?.[2];
    if (m) entries.push({ level: level === '' ? 'stderr' : level, text: line.slice(m[0].length) });
    else if (entries.length > 0 && line !== '') entries[entries.length - 1].text += `\n${line}`;
  }
  return entries
    .filter((e) => KEPT_LEVELS.has(e.level))
    .map((e) => `[${e.level}] ${e.text.replace(/^\*\d+ /, '').replace(/, client: [\s\S]*$/, '')}`);
}
