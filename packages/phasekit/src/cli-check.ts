// `phasekit check CONFIG`, as `nginx -t`: reads, validates and compiles everything (init and
// initWorker run as at a start), prints what would be served, exits 0 or 1.

import { parseArgs } from 'node:util';
import type { CliUsageError } from './cli-config.js';
import { readConfig } from './cli-config.js';
import { listenersOf } from './cli-listen.js';
import { describeDicts, Output, printIgnored } from './cli-output.js';
import { createEngine, usesLua, type EngineConfig, type LocationConfig } from './engine.js';

const PHASES: readonly [keyof LocationConfig, string][] = [
  ['rewrite', 'rewrite'],
  ['access', 'access'],
  ['content', 'content'],
  ['headerFilter', 'header_filter'],
  ['bodyFilter', 'body_filter'],
  ['log', 'log'],
];

export async function runCheck(argv: readonly string[], usage: (m: string) => CliUsageError): Promise<number> {
  const { values, positionals } = parseArgs({ args: [...argv], allowPositionals: true, options: { prefix: { type: 'string', short: 'p' }, quiet: { type: 'boolean', short: 'q' } } });
  const file = positionals[0];
  if (file === undefined) throw usage('check: no config file given');
  const out = new Output({ quiet: values.quiet === true });
  try {
    const loaded = await readConfig(file, values.prefix);
    out.info(`${file}: syntax is ok`);
    const engine = await createEngine(loaded.config, { plugins: loaded.plugins, logger: (e) => out.error(`[${e.level}] ${e.message}`) });
    await engine.close();
    describe(out, loaded.config, loaded.prefix);
    out.info(`plugins: ${usesLua(loaded.config) ? 'lua runtime, ' : ''}nginx modules, haproxy contexts (built in)`);
    if (loaded.nginx?.workers !== undefined) out.info(`workers: ${loaded.nginx.workers} (worker_processes; serve starts worker threads where it can)`);
    if (loaded.nginx !== undefined) printIgnored(out, loaded.nginx.ignored);
    out.out(`${file}: test is successful`);
    return 0;
  } catch (err) {
    out.error(`phasekit: [emerg] ${err instanceof Error ? err.message : String(err)}`);
    out.error(`${file}: test failed`);
    return 1;
  }
}

/** What would be served: servers with their addresses and names, locations with their phases. */
function describe(out: Output, config: EngineConfig, prefix: string): void {
  const servers = [{ ...config, locations: config.locations }, ...(config.servers ?? [])];
  const listeners = listenersOf(config, prefix);
  if (listeners.length === 0) out.info('listen: 127.0.0.1:8080 (phasekit serve default)');
  servers.forEach((s, i) => {
    const names = s.serverName === undefined ? [] : typeof s.serverName === 'string' ? [s.serverName] : s.serverName;
    out.info(`${out.style(`server ${i + 1}`, 'bold')}${names.length > 0 ? ` ${names.join(' ')}` : ''}${(s.listen ?? []).length > 0 ? out.style(`  listen ${(s.listen ?? []).join(', ')}`, 'dim') : ''}`);
    for (const loc of s.locations as LocationConfig[]) out.info(`  location ${loc.match.padEnd(24)} ${phasesOf(loc).join(', ')}`);
  });
  for (const [name, u] of Object.entries(config.upstreams ?? {})) {
    out.info(`upstream ${name}: ${(u.servers ?? []).length} server(s)${u.method !== undefined ? `, ${u.method}` : ''}${u.balancer !== undefined ? ', balancer handler' : ''}`);
  }
  const dicts = config.sharedDicts ?? {};
  if (Object.keys(dicts).length > 0) out.info(`shared dicts: ${describeDicts(dicts)}`);
  const lifecycle = (['init', 'initWorker', 'exitWorker', 'sslCertificate'] as const).filter((k) => config[k] !== undefined);
  if (lifecycle.length > 0) out.info(`lifecycle handlers: ${lifecycle.join(', ')}`);
}

/** `rules(3), access, content (proxy http://up)`: a location's phases with handlers. */
function phasesOf(loc: LocationConfig): string[] {
  const out: string[] = [];
  if (loc.internal === true) out.push('internal');
  const rules = (loc.serverRules?.length ?? 0) + (loc.rules?.length ?? 0) + Object.keys(loc.vars ?? {}).length + (loc.set?.length ?? 0);
  if (rules > 0) out.push(`set/rewrite rules (${rules})`);
  for (const [key, name] of PHASES) if (loc[key] !== undefined) out.push(name);
  const ret = [...(loc.serverRules ?? []), ...(loc.rules ?? [])].find((r) => 'return' in r && r.return !== undefined);
  if (ret !== undefined && 'return' in ret) out.push(`return ${ret.return}`);
  else if (loc.proxyPass !== undefined) out.push(`proxy_pass ${loc.proxyPass}`);
  else if (loc.service !== undefined) out.push(`service ${loc.service}`);
  else if (loc.content === undefined && (loc.root !== undefined || loc.alias !== undefined)) out.push(`static ${loc.alias ?? loc.root}${loc.tryFiles !== undefined ? ' (try_files)' : ''}`);
  if (loc.addHeaders !== undefined) out.push(`add_header (${loc.addHeaders.length})`);
  if (loc.errorPages !== undefined) out.push('error_page');
  if (Array.isArray(loc.accessLog)) out.push(`access_log ${loc.accessLog.map((l) => l.path).join(' ')}`);
  return out;
}
