// `node bench/cosocket-in-process.mjs` (after `pnpm build`): server CPU per request of Lua cosocket
// work without HTTP, against a local redis-server: a plain Lua handler, a pooled connect +
// setkeepalive (no I/O), and a whole GET round trip; 50 requests in flight, median of 3 runs.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect, createServer } from 'node:net';
import { createEngine } from 'phasekit';
import { fakeExchange } from './configs.mjs';

const N = Number(process.env.REQUESTS ?? 30_000);
const IN_FLIGHT = 50;

const s = createServer();
await new Promise((r) => s.listen(0, '127.0.0.1', r));
const port = s.address().port;
await new Promise((r) => s.close(r));
const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
for (let up = false; !up; ) {
  up = await new Promise((r) => {
    const c = connect(port, '127.0.0.1', () => c.end('*3\r\n$3\r\nSET\r\n$9\r\nbench:key\r\n$5\r\nHELLO\r\n', () => r(true)));
    c.on('error', () => setTimeout(() => r(false), 20));
  });
}

const CONNECT = `local s = ngx.socket.tcp() assert(s:connect("127.0.0.1", ${port}, { pool_size = 64, backlog = 4096 }))`;
const variants = {
  'plain Lua content handler': 'ngx.print("HELLO\\n")',
  'pooled connect + setkeepalive (no I/O)': `${CONNECT} s:setkeepalive(0, 64) ngx.print("HELLO\\n")`,
  'a GET round trip': `${CONNECT}
    s:send("*2\\r\\n$3\\r\\nGET\\r\\n$9\\r\\nbench:key\\r\\n")
    local n = tonumber(s:receive():sub(2))
    local v = s:receive(n + 2)
    s:setkeepalive(0, 64)
    ngx.print(v:sub(1, n), "\\n")`,
};

async function measure(lua) {
  const engine = await createEngine({ locations: [{ match: '= /bench', content: { lua } }] }, { logger: () => undefined });
  let done = 0;
  let started = 0;
  const exchange = () => {
    const e = fakeExchange();
    e.respond = () => void done++;
    return e;
  };
  const t0 = process.cpuUsage();
  await new Promise((resolve) => {
    const pump = () => {
      while (started - done < IN_FLIGHT && started < N) {
        started++;
        engine.handle(exchange());
      }
      if (done >= N) resolve();
      else setImmediate(pump);
    };
    pump();
  });
  const u = process.cpuUsage(t0);
  await engine.close();
  return (u.user + u.system) / N;
}

console.log(`\nNode ${process.version}: CPU per request in-process (${N.toLocaleString('en-US')} requests, ${IN_FLIGHT} in flight, median of 3)\n`);
console.log('| handler | CPU µs/request |');
console.log('| --- | ---: |');
for (const [label, lua] of Object.entries(variants)) {
  const runs = [];
  for (let i = 0; i < 3; i++) runs.push(await measure(lua));
  console.log(`| ${label} | ${runs.sort((a, b) => a - b)[1].toFixed(1)} |`);
}
redis.kill('SIGTERM');
await once(redis, 'exit');
