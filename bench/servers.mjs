// One benchmark target per process: `node bench/servers.mjs <kind>` listens on 127.0.0.1:0 and prints its port.
// Every target answers GET /bench with the same bytes: 200, text/plain, X-Phase: 1, body "HELLO\n".
import { createServer } from 'node:http';

const kind = process.argv[2];
const BODY = 'HELLO\n';

async function handlerFor(name) {
  switch (name) {
    case 'node': {
      return (req, res) => {
        res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': '6', 'X-Phase': '1' });
        res.end(BODY);
      };
    }
    case 'phasekit-ts': {
      const { createEngine, createHandler } = await import('phasekit');
      const engine = await createEngine({
        locations: [{
          match: '= /bench',
          rewrite: (ngx) => { ngx.ctx.started = true; },
          access: (ngx) => { if (ngx.var.arg_deny) return ngx.exit(403); },
          content: (ngx) => ngx.say('hello'),
          headerFilter: (ngx) => { ngx.header['X-Phase'] = '1'; },
          bodyFilter: (ngx) => { ngx.arg.chunk = String(ngx.arg.chunk).toUpperCase(); },
          log: (ngx) => { ngx.ctx.logged = true; },
        }],
      });
      return createHandler(engine);
    }
    case 'phasekit-lua-content': {
      const { createEngine, createHandler } = await import('phasekit');
      const engine = await createEngine({
        locations: [{ match: '= /bench', content: { lua: 'ngx.header["X-Phase"] = "1" ngx.say("HELLO")' } }],
      });
      return createHandler(engine);
    }
    case 'phasekit-lua': {
      const { createEngine, createHandler } = await import('phasekit');
      const engine = await createEngine({
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
      });
      return createHandler(engine);
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
  const server = createServer(await handlerFor(kind));
  server.listen(0, '127.0.0.1', () => console.log(server.address().port));
}
process.on('SIGTERM', () => process.exit(0));
