// What each Lua phase adds to a request, in process (no sockets): CPU ns per request
// (process.cpuUsage(), steadier than wall time on a shared machine) of a TS content handler
// alone and with one Lua handler added. `node bench/phase-costs.mjs [filter]`; REQUESTS=n.
import { createEngine } from 'phasekit';
import { contentLua, contentTs, fakeExchange, sixPhasesLua, sixPhasesTs } from './configs.mjs';
const N = Number(process.env.REQUESTS ?? process.env.N ?? 100000);
const L = (lua) => ({ lua });
const base = { match: '= /bench', content: (ngx) => ngx.say('hello') };
const cases = {
  'TS content handler (bench config)': contentTs,
  'TS in 6 phases (bench config)': sixPhasesTs,
  'Lua content handler (bench config)': contentLua,
  'Lua in 6 phases (bench config)': sixPhasesLua,
  'ts content only': { locations: [base] },
  'lua content say': { locations: [{ match: '= /bench', content: L('ngx.say("hello")') }] },
  'lua content empty': { locations: [{ match: '= /bench', content: L('') }] },
  '+lua rewrite ctx': { locations: [{ ...base, rewrite: L('ngx.ctx.started = true') }] },
  '+lua rewrite empty': { locations: [{ ...base, rewrite: L('') }] },
  '+lua access var': { locations: [{ ...base, access: L('if ngx.var.arg_deny then return ngx.exit(403) end') }] },
  '+lua header_filter': { locations: [{ ...base, headerFilter: L('ngx.header["X-Phase"] = "1"') }] },
  '+lua header_filter empty': { locations: [{ ...base, headerFilter: L('') }] },
  '+lua body_filter': { locations: [{ ...base, bodyFilter: L('ngx.arg[1] = string.upper(ngx.arg[1])') }] },
  '+lua log incr': { sharedDicts: { stats: '1m' }, locations: [{ ...base, log: L('ngx.shared.stats:incr("requests", 1, 0)') }] },
  '+5 empty lua': { locations: [{ ...base, rewrite: L(''), access: L(''), headerFilter: L(''), bodyFilter: L(''), log: L('') }] },
  '+lua log empty': { locations: [{ ...base, log: L('') }] },
};
const only = process.argv[2];
console.log(`\nNode ${process.version}: CPU ns per request in process (median of 3 × ${N.toLocaleString('en-US')})\n`);
console.log('| config | CPU ns/request |');
console.log('| --- | ---: |');
for (const [label, config] of Object.entries(cases)) {
  if (only && !label.includes(only)) continue;
  const engine = await createEngine(config, { logger: () => undefined });
  const ex = fakeExchange();
  const runs = [];
  for (let r = 0; r < 4; r++) {
    const t = process.cpuUsage();
    for (let i = 0; i < N; i++) engine.handle(ex);
    const u = process.cpuUsage(t);
    if (r > 0) runs.push((u.user + u.system) * 1000 / N);
  }
  runs.sort((a, b) => a - b);
  console.log(`| ${label} | ${Math.round(runs[1]).toLocaleString('en-US')} |`);
  await engine.close();
}
