import { createEngine } from 'phasekit';
const six = process.argv[2] === 'six';
const engine = await createEngine(six ? {
  sharedDicts: { stats: '1m' },
  locations: [{
    match: '= /bench',
    rewrite: { lua: 'ngx.ctx.started = true' },
    access: { lua: 'if ngx.var.arg_deny then return ngx.exit(403) end' },
    content: { lua: 'ngx.say("hello")' },
    headerFilter: { lua: 'ngx.header["X-Phase"] = "1"' },
    bodyFilter: { lua: 'ngx.arg[1] = string.upper(ngx.arg[1])' },
    log: { lua: 'ngx.shared.stats:incr("requests", 1, 0)' },
  }],
} : { locations: [{ match: '= /bench', content: { lua: 'ngx.header["X-Phase"] = "1" ngx.say("HELLO")' } }] });
const ex = { method: 'GET', url: '/bench', httpVersion: '1.1', headers: { host: 'x' }, rawHeaders: ['Host', 'x'], remoteAddress: '127.0.0.1', remotePort: 1, localAddress: '127.0.0.1', localPort: 2, secure: false,
  readBody: () => Promise.resolve(new Uint8Array()), respond: () => {}, abort: () => {} };
for (let round = 0; round < 3; round++) {
  const N = 100_000; const t = process.hrtime.bigint();
  for (let i = 0; i < N; i++) engine.handle(ex);
  const ns = Number(process.hrtime.bigint() - t) / N;
  console.log(`${ns.toFixed(0)} ns/request, ${(1e9 / ns / 1000).toFixed(0)}k/s`);
}
