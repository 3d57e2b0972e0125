// Cosockets from Lua: a tiny line-based key/value service (started here) reached with
// ngx.socket.tcp, the connection kept in the engine's pool between requests; two lookups at
// once in light threads; a WebSocket-style upgrade handed to ngx.req.socket(true).
// Run: PORT=3000 node --conditions=source --import tsx examples/cosockets/server.mjs
//   curl 'http://127.0.0.1:3000/kv?key=dog'      → "dog = an animal (connection reused 0 times)", then 1, 2, ...
//   curl 'http://127.0.0.1:3000/both'             → both lookups, made in parallel
import { createServer as createTcpServer } from 'node:net';
import { createServer } from 'node:http';
import { createEngine, createHandler, createUpgradeHandler } from 'phasekit';

// The backend: "GET key\n" → "value\n" (or "-\n").
const data = new Map([['dog', 'an animal'], ['cat', 'another one']]);
const backend = createTcpServer((socket) => {
  let buffered = '';
  socket.on('data', (chunk) => {
    buffered += chunk;
    for (let nl = buffered.indexOf('\n'); nl !== -1; nl = buffered.indexOf('\n')) {
      const key = buffered.slice(4, nl);
      buffered = buffered.slice(nl + 1);
      socket.write(`${data.get(key) ?? '-'}\n`);
    }
  });
});
await new Promise((resolve) => backend.listen(0, '127.0.0.1', resolve));
const backendPort = backend.address().port;

const LOOKUP = `
local function lookup(key)
  local sock = ngx.socket.tcp()
  sock:settimeout(1000)
  local ok, err = sock:connect("127.0.0.1", ${backendPort})
  if not ok then return nil, "connect: " .. err end
  local reused = sock:getreusedtimes()
  sock:send({ "GET ", key, "\\n" })
  local value, err = sock:receive()
  if not value then return nil, "receive: " .. err end
  sock:setkeepalive(10000, 16)
  return value, reused
end
`;

const engine = await createEngine({
  locations: [
    {
      match: '= /kv',
      content: { lua: `${LOOKUP}
        local value, reused = lookup(ngx.var.arg_key or "dog")
        if not value then ngx.status = 502 ngx.say(reused) return end
        ngx.say(ngx.var.arg_key or "dog", " = ", value, " (connection reused ", reused, " times)")` },
    },
    {
      match: '= /both',
      content: { lua: `${LOOKUP}
        local a = ngx.thread.spawn(lookup, "dog")
        local b = ngx.thread.spawn(lookup, "cat")
        local _, dog = ngx.thread.wait(a)
        local _, cat = ngx.thread.wait(b)
        ngx.say("dog = ", dog, ", cat = ", cat)` },
    },
  ],
});

const server = createServer(createHandler(engine));
// Upgrade requests (WebSockets) reach the engine too; ngx.req.socket(true) then takes the connection.
server.on('upgrade', createUpgradeHandler(engine));
server.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${server.address().port} (try /kv?key=dog and /both)`);
});
process.on('SIGINT', async () => {
  server.close();
  await engine.close();
  backend.close();
});
