// Small Lua clients written here, over cosockets, against real servers: RESP against redis-server,
// the memcached text protocol against memcached, HTTP/1.1 (chunked bodies, keep-alive) against node:http.
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, inject, type Engine } from 'phasekit';
import { have, startMemcached, startRedis, type Daemon } from './cosocket-servers.js';

/** A RESP client: cmd(sock, ...) sends one command, read(sock) reads one reply. */
const RESP = String.raw`
local function encode(args)
  local out = { "*" .. #args .. "\r\n" }
  for _, a in ipairs(args) do a = tostring(a) out[#out + 1] = { "$", #a, "\r\n", a, "\r\n" } end
  return out
end
local function read(s)
  local line, err = s:receive()
  if not line then return nil, err end
  local t, rest = line:sub(1, 1), line:sub(2)
  if t == "+" then return rest
  elseif t == "-" then return false, rest
  elseif t == ":" then return math.tointeger(tonumber(rest))
  elseif t == "$" then
    local n = tonumber(rest)
    if n < 0 then return ngx.null end
    local data, err = s:receive(n + 2)
    if not data then return nil, err end
    return data:sub(1, n)
  elseif t == "*" then
    local r = {}
    for i = 1, tonumber(rest) do r[i] = read(s) end
    return r
  end
  return nil, "bad reply: " .. line
end
local function cmd(s, ...)
  local ok, err = s:send(encode({ ... }))
  if not ok then return nil, err end
  return read(s)
end
`;

describe('RESP against redis-server', () => {
  const on = have('redis-server');
  let redis: Daemon;
  let engine: Engine;
  beforeAll(async () => {
    if (!on) return;
    redis = await startRedis();
    const connect = `local s = ngx.socket.tcp() s:settimeout(2000) assert(s:connect("127.0.0.1", ${redis.port}, { pool_size = 16, backlog = 2000 }))\n`;
    engine = await createEngine({
      locations: [
        { match: '= /basic', content: { lua: RESP + connect + String.raw`
          ngx.say(cmd(s, "SET", "dog", "an animal"))
          ngx.say(cmd(s, "GET", "dog"))
          ngx.say(cmd(s, "GET", "nope") == ngx.null)
          ngx.say(cmd(s, "INCR", "counter"), " ", cmd(s, "INCR", "counter"))
          local ok, err = cmd(s, "LPUSH", "dog", "x")
          ngx.say(tostring(ok), " ", err)
          local big = string.rep("0123456789", 20000)
          cmd(s, "SET", "big", big)
          ngx.say(#cmd(s, "GET", "big") == #big)
          ngx.say(cmd(s, "DEL", "dog", "counter", "big"))
          ngx.say("reused ", s:getreusedtimes(), " keepalive ", s:setkeepalive(10000, 16))` } },
        { match: '= /pipeline', content: { lua: RESP + connect + String.raw`
          -- Three commands in one send, three replies read back.
          s:send({ encode({ "SET", "cat", "Marry" }), encode({ "SET", "horse", "Bob" }), encode({ "MGET", "cat", "horse" }) })
          ngx.say(read(s), " ", read(s), " ", table.concat(read(s), ","))
          local r = cmd(s, "MULTI") cmd(s, "SET", "t1", "x") cmd(s, "GET", "t1")
          local ex = cmd(s, "EXEC")
          ngx.say(r, " ", #ex, " ", ex[2])
          cmd(s, "DEL", "cat", "horse", "t1")
          ngx.say("reused ", s:getreusedtimes(), " keepalive ", s:setkeepalive(10000, 16))` } },
        { match: '= /get', content: { lua: RESP + connect + String.raw`
          local v, err = cmd(s, "GET", "shared")
          if v == nil then ngx.say("error: ", err) return end
          ngx.say(v)
          s:setkeepalive(10000, 16)` } },
      ],
    }, { logger: () => undefined });
  });
  afterAll(async () => {
    await engine?.close();
    await redis?.stop();
  });

  it.skipIf(!on)('SET, GET, INCR, an error reply, a 200 kB value across packets; keepalive reuse', async () => {
    const first = await inject(engine, '/basic');
    expect(first.body).toBe('OK\nan animal\ntrue\n1 2\nfalse WRONGTYPE Operation against a key holding the wrong kind of value\ntrue\n3\nreused 0 keepalive 1\n');
    expect((await inject(engine, '/pipeline')).body).toBe('OK OK Marry,Bob\nOK 2 x\nreused 1 keepalive 1\n');
  });

  it.skipIf(!on)('1,000 concurrent requests each doing a GET share 16 connections', async () => {
    const set = await createEngine({ locations: [{ match: '/', content: { lua: RESP + `local s = ngx.socket.tcp() s:connect("127.0.0.1", ${redis.port}) ngx.say(cmd(s, "SET", "shared", "value")) s:close()` } }] }, { logger: () => undefined });
    expect((await inject(set, '/')).body).toBe('OK\n');
    await set.close();
    const all = await Promise.all(Array.from({ length: 1000 }, () => inject(engine, '/get')));
    expect(all.filter((r) => r.body === 'value\n')).toHaveLength(1000);
    expect(engine.cosockets.pools.get(`127.0.0.1:${redis.port}`)?.connections).toBeLessThanOrEqual(16);
  });
});

describe('the memcached text protocol against memcached', () => {
  const on = have('memcached');
  let mc: Daemon;
  let engine: Engine;
  beforeAll(async () => {
    if (!on) return;
    mc = await startMemcached();
    engine = await createEngine({ locations: [{ match: '/', content: { lua: String.raw`
      local s = ngx.socket.tcp()
      assert(s:connect("127.0.0.1", ${mc.port}))
      local function get(key)
        s:send("get " .. key .. "\r\n")
        local line = s:receive()
        if line == "END" then return nil end
        local len = tonumber(line:match("^VALUE %S+ %d+ (%d+)$"))
        local data = s:receive(len + 2):sub(1, len)
        assert(s:receive() == "END")
        return data
      end
      s:send({ "set dog 0 0 9\r\n", "an animal", "\r\n" })
      ngx.say(s:receive())
      ngx.say(get("dog"))
      s:send("incr hits 1\r\n") ngx.say(s:receive())
      s:send("set hits 0 0 1\r\n5\r\n") s:receive()
      s:send("incr hits 3\r\n") ngx.say(s:receive())
      s:send("delete dog\r\n") ngx.say(s:receive())
      ngx.say(tostring(get("dog")))
      ngx.say("reused ", s:getreusedtimes(), " ", s:setkeepalive())` } }] }, { logger: () => undefined });
  });
  afterAll(async () => {
    await engine?.close();
    await mc?.stop();
  });

  it.skipIf(!on)('set, get, incr, delete; the connection is pooled', async () => {
    expect((await inject(engine, '/')).body).toBe('STORED\nan animal\nNOT_FOUND\n8\nDELETED\nnil\nreused 0 1\n');
    expect((await inject(engine, '/')).body).toContain('reused 1 1');
  });
});

describe('HTTP/1.1 against node:http', () => {
  let server: Server;
  let port: number;
  let engine: Engine;
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/chunked') {
        res.writeHead(200, { 'X-Backend': 'node' });
        // Chunks written apart, so sizes and data arrive in separate packets.
        const parts = ['hello ', 'chunked ', 'world'];
        let i = 0;
        const next = () => (i < parts.length ? (res.write(parts[i++]), setTimeout(next, 5)) : res.end());
        next();
        return;
      }
      const body = `you asked for ${req.url}`;
      res.writeHead(200, { 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
    });
    server.keepAliveTimeout = 5000;
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
    engine = await createEngine({ locations: [{ match: '/', content: { lua: String.raw`
      local function request(s, path)
        s:send({ "GET ", path, " HTTP/1.1\r\n", "Host: backend\r\n", "Connection: keep-alive\r\n\r\n" })
        local head, err = s:receiveuntil("\r\n\r\n")()
        if not head then return nil, err end
        local status = tonumber(head:match("^HTTP/1%.1 (%d+)"))
        local length = head:match("\n[Cc]ontent%-[Ll]ength: (%d+)")
        if length then return status, s:receive(tonumber(length)) end
        local body = {}
        while true do
          local size = tonumber(s:receive(), 16)
          if size == 0 then s:receive() break end
          body[#body + 1] = s:receive(size)
          s:receive(2)
        end
        return status, table.concat(body, "|")
      end
      local s = ngx.socket.tcp()
      s:settimeout(2000)
      assert(s:connect("127.0.0.1", ${port}))
      local status, body = request(s, "/one")
      ngx.say(s:getreusedtimes(), " ", status, " ", body)
      status, body = request(s, "/chunked")
      ngx.say(status, " ", body)
      ngx.say(s:setkeepalive())` } }] }, { logger: () => undefined });
  });
  afterAll(async () => {
    await engine.close();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('a Content-Length body, a chunked body read chunk by chunk, keep-alive across requests', async () => {
    expect((await inject(engine, '/')).body).toBe('0 200 you asked for /one\n200 hello |chunked |world\n1\n');
    expect((await inject(engine, '/')).body).toBe('1 200 you asked for /one\n200 hello |chunked |world\n1\n');
  });
});
