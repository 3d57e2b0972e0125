// The OpenResty differential suite: every case in cases/*.mjs runs on phasekit (the engine built
// from the case by phasekit-config.mjs, served by createHandler on node:http, asked with the raw
// client) and is compared with what real nginx answered (recordings/*.json, made by record.mjs).
// A case listed in known-differences.json must still differ; any other case must match.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { isDeepStrictEqual } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, createHandler, logMessage, type LogEntry } from 'phasekit';
import { phasekitConfig } from './phasekit-config.mjs';
import { sendRequest } from './raw-http.mjs';
import { closedPort, fillPlaceholders, KEPT_LEVELS, listAreas, loadArea, RECORDINGS_DIR, SUITE_DIR, type TestCase } from './suite.mjs';
import { normalizePair, normalizeLogLine, type CaseObserved, type Observed } from './compare.js';

interface Recording {
  nginx: string;
  cases: Record<string, { startError?: string; startLog?: string[]; requests?: (Observed & { request: string })[] }>;
}

const PARALLEL = 8;

const areas = await Promise.all(listAreas().map(async (area) => ({ area, cases: await loadArea(area) })));
const recordings = new Map<string, Recording>();
for (const { area } of areas) {
  const file = `${RECORDINGS_DIR}/${area}.json`;
  if (existsSync(file)) recordings.set(area, JSON.parse(readFileSync(file, 'utf8')) as Recording);
}
const known = JSON.parse(readFileSync(`${SUITE_DIR}/known-differences.json`, 'utf8')) as Record<string, string>;

const formatEntry = (e: LogEntry) => `[${e.level}] ${logMessage(e)}`;
const kept = (entries: LogEntry[]) => entries.filter((e) => KEPT_LEVELS.has(e.level)).map(formatEntry);

/** Runs one case on phasekit: one engine, one server, the requests in order. */
async function runCase(c: TestCase): Promise<{ observed: CaseObserved; error?: string }> {
  // The engine needs the port (cases may proxy to their own server), so the handler comes later.
  const route: { handle?: (req: IncomingMessage, res: ServerResponse) => void } = {};
  const server = createServer((req, res) => route.handle?.(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const filled = fillPlaceholders(c, { port, deadPort: await closedPort() });
  const logs: LogEntry[] = [];
  let engine: Awaited<ReturnType<typeof createEngine>>;
  try {
    engine = await createEngine(phasekitConfig(filled, { dir: SUITE_DIR }), { logger: (e) => logs.push(e) });
  } catch (err) {
    await new Promise((resolve) => server.close(resolve));
    return { observed: { startError: true }, error: err instanceof Error ? err.message : String(err) };
  }
  let inFlight = 0;
  engine.on('request:start', () => inFlight++);
  engine.on('request:end', () => inFlight--);
  route.handle = createHandler(engine);
  const observed: { startLog?: string[]; requests: Observed[] } = { requests: [] };
  if (c.log) observed.startLog = kept(logs);
  try {
    for (const req of filled.requests) {
      const mark = logs.length;
      const res: Observed = await sendRequest(port, req);
      // The log phase may still run after the client saw the close: wait for the request's end.
      for (let i = 0; i < 200 && inFlight > 0; i++) await new Promise((r) => setTimeout(r, 5));
      await new Promise((r) => setImmediate(r));
      if (c.log) res.log = kept(logs.slice(mark));
      observed.requests.push(res);
    }
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await engine.close({ timeout: 1000 });
  }
  return { observed };
}

/** The recording as compared: labels dropped, a failed start reduced to the fact. */
function expectedOf(rec: Recording['cases'][string]): CaseObserved {
  if (rec.startError !== undefined) return { startError: true };
  const out: { startLog?: string[]; requests: Observed[] } = {
    requests: (rec.requests ?? []).map(({ request: _label, ...r }) => r),
  };
  if (rec.startLog !== undefined) out.startLog = rec.startLog;
  return out;
}

/** How often rule 2 of normalizePair (phasekit's Content-Length for nginx's chunked framing) was needed. */
const framingCount = { responses: 0, normalized: 0 };

/** Both sides after the documented normalizations. */
function comparable(c: TestCase, expected: CaseObserved, actual: CaseObserved): [CaseObserved, CaseObserved] {
  if ('startError' in expected || 'startError' in actual) return [expected, actual];
  const ng: { startLog?: string[]; requests: Observed[] } = { requests: [] };
  const pk: { startLog?: string[]; requests: Observed[] } = { requests: [] };
  if (expected.startLog !== undefined) ng.startLog = expected.startLog.map(normalizeLogLine);
  if (actual.startLog !== undefined) pk.startLog = actual.startLog.map(normalizeLogLine);
  const n = Math.max(expected.requests.length, actual.requests.length);
  for (let i = 0; i < n; i++) {
    const e = expected.requests[i];
    const a = actual.requests[i];
    if (e === undefined || a === undefined) {
      if (e !== undefined) ng.requests.push(e);
      if (a !== undefined) pk.requests.push(a);
      continue;
    }
    const [x, y] = normalizePair(c.requests[i]?.method ?? 'GET', e, a);
    framingCount.responses++;
    if (a.framing !== e.framing && y.framing === x.framing) framingCount.normalized++;
    ng.requests.push(x);
    pk.requests.push(y);
  }
  return [ng, pk];
}

const results = new Map<string, { observed: CaseObserved; error?: string }>();

beforeAll(async () => {
  const all = areas.flatMap(({ cases }) => cases);
  let next = 0;
  await Promise.all(
    Array.from({ length: PARALLEL }, async () => {
      while (next < all.length) {
        const c = all[next++] as TestCase;
        const t0 = performance.now();
        results.set(c.name, await runCase(c));
        if (process.env.OPENRESTY_TIMING) console.log(`${Math.round(performance.now() - t0)} ms  ${c.name}`);
      }
    }),
  );
}, 180_000);

const differing: string[] = [];
/** Every case that differs, both sides as compared: written to $OPENRESTY_REPORT (a JSON file) when set. */
const report: { area: string; name: string; known?: string; nginx: CaseObserved; phasekit: CaseObserved; phasekitError?: string }[] = [];

afterAll(() => {
  if (differing.length > 0) console.log(`openresty: ${differing.length} known difference(s) still differ (known-differences.json)`);
  console.log(`openresty: ${framingCount.normalized} of ${framingCount.responses} responses compared with phasekit's Content-Length standing for nginx's chunked or close-delimited body`);
  const file = process.env.OPENRESTY_REPORT;
  if (file !== undefined && file !== '') writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
});

describe('the suite itself', () => {
  it('case names are unique across areas', () => {
    const names = areas.flatMap(({ cases }) => cases.map((c) => c.name));
    expect(names.length).toBe(new Set(names).size);
  });

  it('every known difference names a case and gives a one-line reason', () => {
    const names = new Set(areas.flatMap(({ cases }) => cases.map((c) => c.name)));
    for (const [name, reason] of Object.entries(known)) {
      expect(names.has(name), `known-differences.json: no case named ${JSON.stringify(name)}`).toBe(true);
      expect(typeof reason === 'string' && reason.trim() !== '' && !reason.includes('\n'), `known-differences.json: ${JSON.stringify(name)} needs a one-line reason`).toBe(true);
    }
  });

  it('every recording belongs to a case', () => {
    for (const { area, cases } of areas) {
      const names = new Set(cases.map((c) => c.name));
      for (const name of Object.keys(recordings.get(area)?.cases ?? {})) {
        expect(names.has(name), `recordings/${area}.json holds ${JSON.stringify(name)}, which is no case any more: pnpm openresty:record ${area}`).toBe(true);
      }
    }
  });
});

for (const { area, cases } of areas) {
  describe(area, () => {
    for (const c of cases) {
      it(c.name, () => {
        const rec = recordings.get(area)?.cases[c.name];
        expect(rec, `no recording for ${JSON.stringify(c.name)}: pnpm openresty:record ${area}`).toBeDefined();
        const result = results.get(c.name);
        expect(result, 'the case did not run').toBeDefined();
        if (rec === undefined || result === undefined) return;
        const [expected, actual] = comparable(c, expectedOf(rec), result.observed);
        const reason = known[c.name];
        if (!isDeepStrictEqual(actual, expected)) {
          const entry: (typeof report)[number] = { area, name: c.name, nginx: expected, phasekit: actual };
          if (reason !== undefined) entry.known = reason;
          if (result.error !== undefined) entry.phasekitError = result.error;
          report.push(entry);
        }
        if (reason !== undefined) {
          differing.push(c.name);
          expect(isDeepStrictEqual(actual, expected), `${JSON.stringify(c.name)} matches nginx now: remove it from known-differences.json (it was listed for: ${reason})`).toBe(false);
          return;
        }
        if (result.error !== undefined && !('startError' in expected)) {
          expect.fail(`phasekit refused the config: ${result.error}`);
        }
        expect(actual).toEqual(expected);
      });
    }
  });
}
