// `node bench/plugins-inproc.mjs [label]` (after `pnpm build`): what each gateway plugin costs in
// process — `engine.handle` on a fabricated exchange (no sockets, no header serialization), so
// the plugin runner and the built-ins are measured without the network's noise. Prints the median
// of 3 measured rounds of server CPU (process.cpuUsage) per request, in ns, for the route without
// plugins, with a no-op plugin (the runner's own cost), with the five plugins of bench/gateway.mjs,
// and with each of them alone. A label (`none`, `noop`, `all5`, a plugin name) runs only that row.
import { createEngine, definePlugin } from 'phasekit';
import { fakeExchange } from './configs.mjs';

const N = 100_000;
const ROUNDS = 4; // the first warms up
const five = [
  { name: 'correlation-id', config: { echo_downstream: true } },
  { name: 'key-auth' },
  { name: 'request-size-limiting', config: { allowed_payload_size: 1 } },
  { name: 'rate-limiting', config: { minute: 1e9 } },
  { name: 'response-transformer', config: { add: { headers: ['X-Served-By:gateway'] } } },
];
const noop = definePlugin({ name: 'noop', priority: 1, access() {}, headerFilter() {} });
const rows = [['none', []], ['noop', [{ name: 'noop' }]], ['all5', five], ...five.map((p) => [p.name, [p]])];
const only = process.argv[2];

console.log('| plugins on the route | CPU ns/request | over none |');
console.log('| --- | ---: | ---: |');
let none;
for (const [label, plugins] of rows.filter(([l]) => only === undefined || l === only)) {
  const engine = await createEngine(
    {
      sharedDicts: { rate_limiting_counters: '10m' },
      consumers: [{ username: 'bench', keyauth_credentials: [{ key: 'bench-key' }] }],
      locations: [{ match: '/bench', plugins, content: (ngx) => ngx.say('hello') }],
    },
    { plugins: [noop] },
  );
  const ex = fakeExchange();
  ex.headers.apikey = 'bench-key';
  ex.rawHeaders.push('apikey', 'bench-key');
  const runs = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t = process.cpuUsage();
    for (let i = 0; i < N; i++) engine.handle(ex);
    await new Promise((resolve) => setImmediate(resolve));
    const d = process.cpuUsage(t);
    if (r > 0) runs.push(((d.user + d.system) * 1000) / N);
  }
  if (ex.responses !== N * ROUNDS) throw new Error(`${label}: ${ex.responses} responses of ${N * ROUNDS}`);
  const ns = runs.sort((a, b) => a - b)[1];
  none ??= label === 'none' ? ns : undefined;
  console.log(`| ${label} | ${Math.round(ns)} | ${none === undefined ? '' : Math.round(ns - none)} |`);
  await engine.close();
}
