// `node bench/gateway.mjs` (after `pnpm build`; `pnpm bench:gateway` does both): a route with five
// plugins (correlation-id, key-auth, request-size-limiting, rate-limiting, response-transformer) in
// phasekit against Fastify with the equivalent hooks (@fastify/rate-limit, an auth hook, a header
// hook; bodyLimit and request ids are Fastify's own), in one run. Each target runs in its own
// process; rounds alternate; the median round counts. Reports requests/s, the ratio, and the
// server's CPU time per request (process.cpuUsage over the measured window).
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { cpus } from 'node:os';
import autocannon from 'autocannon';

const KEY = 'bench-key';
const LIMIT = 1e9;

if (process.argv[2] === '--serve') await serve(process.argv[3]);
else await main();

async function server(kind) {
  if (kind === 'phasekit-bare') {
    const { createEngine, createHandler } = await import('phasekit');
    const engine = await createEngine({ locations: [{ match: '/bench', content: (ngx) => ngx.say('hello') }] });
    const { createServer } = await import('node:http');
    return createServer(createHandler(engine));
  }
  if (kind === 'fastify-bare') {
    const { default: Fastify } = await import('fastify');
    const app = Fastify();
    app.get('/bench', async (req, reply) => {
      reply.type('text/plain');
      return 'hello\n';
    });
    await app.ready();
    return app.server;
  }
  if (kind === 'phasekit') {
    const { createEngine, createHandler } = await import('phasekit');
    const engine = await createEngine({
      sharedDicts: { rate_limiting_counters: '10m' },
      consumers: [{ username: 'bench', keyauth_credentials: [{ key: KEY }] }],
      locations: [
        {
          match: '/bench',
          plugins: [
            { name: 'correlation-id', config: { echo_downstream: true } },
            { name: 'key-auth' },
            { name: 'request-size-limiting', config: { allowed_payload_size: 1 } },
            { name: 'rate-limiting', config: { minute: LIMIT } },
            { name: 'response-transformer', config: { add: { headers: ['X-Served-By:gateway'] } } },
          ],
          content: (ngx) => ngx.say('hello'),
        },
      ],
    });
    const { createServer } = await import('node:http');
    return createServer(createHandler(engine));
  }
  if (kind === 'fastify') {
    const { default: Fastify } = await import('fastify');
    const { default: rateLimit } = await import('@fastify/rate-limit');
    const consumers = new Map([[KEY, { username: 'bench' }]]);
    const app = Fastify({ bodyLimit: 1024 * 1024, requestIdHeader: 'kong-request-id' });
    // The auth hook: the key-auth plugin's job (API key in a header, 401 when missing or unknown).
    app.addHook('onRequest', async (req, reply) => {
      const key = req.headers.apikey;
      if (key === undefined) return reply.code(401).header('WWW-Authenticate', 'Key').send({ message: 'No API key found in request' });
      const consumer = consumers.get(key);
      if (consumer === undefined) return reply.code(401).send({ message: 'Unauthorized' });
      req.consumer = consumer;
    });
    await app.register(rateLimit, { max: LIMIT, timeWindow: 60_000, keyGenerator: (req) => req.consumer?.username ?? req.ip });
    // The header hook: response-transformer's added header, and correlation-id's echoed id.
    app.addHook('onSend', async (req, reply) => {
      reply.header('X-Served-By', 'gateway');
      reply.header('Kong-Request-ID', req.id);
    });
    app.get('/bench', async (req, reply) => {
      reply.type('text/plain');
      return 'hello\n';
    });
    await app.ready();
    return app.server;
  }
  throw new Error(`unknown target ${kind}`);
}

async function serve(kind) {
  const srv = await server(kind);
  await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve));
  let start;
  process.on('message', (m) => {
    if (m === 'start') start = process.cpuUsage();
    if (m === 'stop') {
      const d = process.cpuUsage(start);
      process.send({ cpu: d.user + d.system });
    }
  });
  process.send({ port: srv.address().port });
}

function load(url, seconds, connections) {
  return new Promise((resolve, reject) => {
    autocannon({ url, connections, duration: seconds, headers: { apikey: KEY } }, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

async function main() {
  const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')));
  const SECONDS = Number(args.get('seconds') ?? 5);
  const ROUNDS = Number(args.get('rounds') ?? 3);
  const CONNECTIONS = Number(args.get('connections') ?? 50);
  const targets = (args.get('targets') ?? 'phasekit,fastify').split(',');
  const rates = Object.fromEntries(targets.map((t) => [t, []]));
  const cpu = Object.fromEntries(targets.map((t) => [t, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const kind of round % 2 === 0 ? targets : [...targets].reverse()) {
      const child = fork(new URL(import.meta.url).pathname, ['--serve', kind], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      const [{ port }] = await once(child, 'message');
      const url = `http://127.0.0.1:${port}/bench`;
      await load(url, 1, CONNECTIONS); // warm-up
      child.send('start');
      const r = await load(url, SECONDS, CONNECTIONS);
      child.send('stop');
      const [{ cpu: micros }] = await once(child, 'message');
      if (r.non2xx > 0 || r.errors > 0) throw new Error(`${kind}: ${r.non2xx} non-2xx, ${r.errors} errors`);
      rates[kind].push(r.requests.average);
      cpu[kind].push(micros / r.requests.total);
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const base = median(rates.fastify ?? rates[targets[targets.length - 1]]);
  console.log(`\n${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}`);
  console.log(`autocannon: ${CONNECTIONS} connections, ${ROUNDS} rounds × ${SECONDS} s per target, median round\n`);
  console.log('| target | requests/s | ratio to Fastify | server CPU µs/request | rounds |');
  console.log('| --- | ---: | ---: | ---: | --- |');
  const labels = {
    phasekit: 'phasekit, 5 plugins on the route',
    fastify: 'Fastify, @fastify/rate-limit + auth and header hooks',
    'phasekit-bare': 'phasekit, the route without plugins',
    'fastify-bare': 'Fastify, the route without hooks',
  };
  for (const kind of targets) {
    const m = median(rates[kind]);
    console.log(`| ${labels[kind] ?? kind} | ${Math.round(m).toLocaleString('en-US')} | ${(m / base).toFixed(2)}× | ${median(cpu[kind]).toFixed(1)} | ${rates[kind].map((x) => Math.round(x / 1000)).join(', ')} (k/s) |`);
  }
}
