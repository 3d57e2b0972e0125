// One benchmark target per process: `node bench/servers.mjs <kind>` listens on 127.0.0.1:0 and prints its port.
// Every target answers GET /bench with the same bytes: 200, text/plain, X-Phase: 1, body "HELLO\n".
import { createServer } from 'node:http';
import { contentLua, contentTs, sixPhasesLua, sixPhasesTs } from './configs.mjs';

const kind = process.argv[2];
const BODY = 'HELLO\n';

/** GET bench:key over RESP, the reply's value as the body (HELLO). */
const REDIS_GET_LUA = String.raw`
local s = ngx.socket.tcp()
s:settimeout(1000)
local ok, err = s:connect("127.0.0.1", $PORT, { pool_size = 64, backlog = 4096 })
if not ok then return ngx.exit(502) end
s:send("*2\r\n$3\r\nGET\r\n$9\r\nbench:key\r\n")
local line = s:receive()
local n = tonumber(line:sub(2))
local v = s:receive(n + 2)
s:setkeepalive(0, 64)
ngx.header["X-Phase"] = "1"
ngx.print(v:sub(1, n), "\n")`;

async function handlerFor(name) {
  switch (name) {
    case 'node': {
      return (req, res) => {
        res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': '6', 'X-Phase': '1' });
        res.end(BODY);
      };
    }
    case 'node-exchange': {
      // The node-http adapter alone: bare node:http answering through NodeExchange.respond.
      const { NodeExchange } = await import('phasekit');
      return (req, res) => {
        new NodeExchange(req, res).respond(200, { 'X-Phase': '1', 'Content-Type': 'text/plain', 'Content-Length': '6' }, BODY);
      };
    }
    case 'node-engine': {
      // The engine alone inside a server: bare node:http answering, plus the TS content engine run on
      // a fabricated exchange per request (the work of bench/in-process.mjs, but between real requests).
      const { createEngine } = await import('phasekit');
      const { fakeExchange } = await import('./configs.mjs');
      const engine = await createEngine(contentTs);
      const fake = fakeExchange();
      return (req, res) => {
        engine.handle(fake);
        res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': '6', 'X-Phase': '1' });
        res.end(BODY);
      };
    }
    case 'phasekit-ts':
    case 'phasekit-ts-content':
    case 'phasekit-lua':
    case 'phasekit-lua-content': {
      const { createEngine, createHandler } = await import('phasekit');
      const config = { 'phasekit-ts': sixPhasesTs, 'phasekit-ts-content': contentTs, 'phasekit-lua': sixPhasesLua, 'phasekit-lua-content': contentLua }[name];
      return createHandler(await createEngine(config));
    }
    case 'proxy-undici': {
      // The minimal proxy phasekit is measured against: one undici Pool, stream the answer back.
      const { Pool } = await import('undici');
      const pool = new Pool(`http://${process.env.BACKEND}`, { connections: 64 });
      return (req, res) => {
        pool.request({ method: req.method, path: req.url, headers: { host: process.env.BACKEND } }).then(
          (up) => {
            const headers = { ...up.headers };
            delete headers.connection;
            delete headers['keep-alive'];
            delete headers['transfer-encoding'];
            res.writeHead(up.statusCode, headers);
            up.body.pipe(res);
          },
          () => {
            res.writeHead(502);
            res.end();
          },
        );
      };
    }
    case 'proxy-phasekit': {
      const { createEngine, createHandler } = await import('phasekit');
      const engine = await createEngine({
        upstreams: { backend: { servers: [process.env.BACKEND], keepalive: 64 } },
        locations: [{ match: '/', proxyPass: 'http://backend' }],
      });
      return createHandler(engine);
    }
    case 'redis-phasekit': {
      // A Redis GET through a cosocket per request, the connection kept in the pool.
      const { createEngine, createHandler } = await import('phasekit');
      const engine = await createEngine({ locations: [{ match: '= /bench', content: { lua: REDIS_GET_LUA.replace('$PORT', process.env.REDIS_PORT) } }] });
      return createHandler(engine);
    }
    case 'redis-ioredis': {
      // The same GET in a plain handler with ioredis (one connection, commands pipelined as they come).
      const { Redis } = await import('ioredis');
      const redis = new Redis({ host: '127.0.0.1', port: Number(process.env.REDIS_PORT), lazyConnect: false });
      return (req, res) => {
        redis.get('bench:key').then(
          (v) => {
            const body = `${v}\n`;
            res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': String(Buffer.byteLength(body)), 'X-Phase': '1' });
            res.end(body);
          },
          () => {
            res.writeHead(502);
            res.end();
          },
        );
      };
    }
    case 'redis-phasekit-ts': {
      // The same GET through the same cosocket from a TypeScript handler (no Lua VM).
      const { createEngine, createHandler } = await import('phasekit');
      const port = Number(process.env.REDIS_PORT);
      const engine = await createEngine({ locations: [{ match: '= /bench', content: async (ngx) => {
        const s = ngx.socket.tcp();
        await s.connect('127.0.0.1', port, { poolSize: 64, backlog: 4096 });
        await s.send('*2\r\n$3\r\nGET\r\n$9\r\nbench:key\r\n');
        const [line] = await s.receive('*l');
        const n = Number(String(line).slice(1));
        const [v] = await s.receive(n + 2);
        s.setKeepalive(0, 64);
        ngx.header['X-Phase'] = '1';
        ngx.print(String(v).slice(0, n), '\n');
      } }] });
      return createHandler(engine);
    }
    case 'redis-node-pool': {
      // The cosocket pattern in plain JS: a connection per request in flight, taken from an idle list
      // and put back after the reply (no pipelining across requests, as lua-resty-redis does).
      const { connect } = await import('node:net');
      const idle = [];
      const GET = '*2\r\n$3\r\nGET\r\n$9\r\nbench:key\r\n';
      const take = () => idle.pop() ?? Object.assign(connect({ port: Number(process.env.REDIS_PORT), host: '127.0.0.1', noDelay: true }), { waiting: undefined });
      return (req, res) => {
        const s = take();
        let buf = '';
        const onData = (d) => {
          buf += d;
          const eol = buf.indexOf('\r\n');
          if (eol === -1) return;
          const n = Number(buf.slice(1, eol));
          if (buf.length < eol + 2 + n + 2) return;
          s.off('data', onData);
          idle.push(s);
          const body = `${buf.slice(eol + 2, eol + 2 + n)}\n`;
          res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': String(Buffer.byteLength(body)), 'X-Phase': '1' });
          res.end(body);
        };
        s.setEncoding('latin1');
        s.on('data', onData);
        s.write(GET);
      };
    }
    default:
      throw new Error(`unknown target ${name}`);
  }
}

if (kind === 'fastify') {
  const { default: Fastify } = await import('fastify');
  const app = Fastify({ logger: false });
  app.get('/bench', (req, reply) => {
    reply.header('Content-Type', 'text/plain').header('X-Phase', '1').send(BODY);
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  console.log(app.server.address().port);
} else {
  const handler = await handlerFor(kind);
  // GET /__cpu answers the process's CPU time (µs) since the previous /__cpu: CPU per request.
  let since = process.cpuUsage();
  const server = createServer((req, res) => {
    if (req.url !== '/__cpu') return handler(req, res);
    const used = process.cpuUsage(since);
    since = process.cpuUsage();
    res.end(String(used.user + used.system));
  });
  server.listen(0, '127.0.0.1', () => console.log(server.address().port));
}
process.on('SIGTERM', () => process.exit(0));
