// phasekit in front of a plain node:http app: the engine serves /hello, the app everything else.
// Run: PORT=3000 node --conditions=source --import tsx examples/node-http/server.mjs
import { createServer } from 'node:http';
import { createEngine, createHandler } from 'phasekit';

const engine = await createEngine({
  locations: [
    {
      match: '= /hello',
      access: { lua: 'if ngx.var.arg_deny == "1" then return ngx.exit(ngx.HTTP_FORBIDDEN) end' },
      content: { lua: 'ngx.print("hello from lua")' },
    },
  ],
});
const phasekit = createHandler(engine);

const server = createServer((req, res) => {
  // No location matched: next() hands the request to the app.
  phasekit(req, res, () => {
    if (req.url.split('?')[0] === '/app') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('app');
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    }
  });
});

server.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}`);
});
