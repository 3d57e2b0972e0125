// One benchmark target per process: `node bench/servers.mjs <kind>` listens on 127.0.0.1:0 and prints its port.
// Every target answers GET /bench with the same bytes: 200, text/plain, X-Phase: 1, body "HELLO\n".
import { createServer } from 'node:http';
import { contentLua, contentTs, sixPhasesLua, sixPhasesTs } from './configs.mjs';

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
