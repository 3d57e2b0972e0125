// A client that goes away while the response streams: later ngx.say / ngx.print / ngx.flush
// return nil, "nginx output filter error" as nginx's do once its writes fail (nginx 1.22 +
// lua-nginx-module 0.10.23: say, print and flush all give that message), in Lua and TypeScript.
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createEngine, createHandler, type EngineConfig, type Ngx, type SharedDict } from 'phasekit';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => { s.closeAllConnections(); s.close(r); })));
});

async function serve(config: EngineConfig) {
  const engine = await createEngine(config, { logger: () => undefined });
  const server = createServer(createHandler(engine));
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

/** Reads the first streamed chunk, then closes the connection. */
function readFirstChunkAndLeave(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1', () => sock.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    sock.once('data', (d) => {
      sock.destroy();
      resolve(d.toString());
    });
    sock.on('error', reject);
  });
}

const LUA = `
  ngx.say("first")
  ngx.flush(true)
  local results = {}
  local function note(name, ok, err) results[#results + 1] = name .. "=" .. tostring(ok) .. "," .. tostring(err) end
  -- the client goes away while the handler waits
  for _ = 1, 100 do
    ngx.sleep(0.01)
    local ok, err = ngx.flush(true)
    if not ok then note("flush(true)", ok, err) break end
  end
  note("say", ngx.say("more"))
  note("print", ngx.print("more"))
  note("flush()", ngx.flush())
  note("flush(true)", ngx.flush(true))
  ngx.shared.d:set("results", table.concat(results, " "))
`;

async function tsHandler(ngx: Ngx): Promise<void> {
  ngx.say('first');
  await ngx.flush(true);
  const results: string[] = [];
  const note = (name: string, r: unknown) => results.push(`${name}=${JSON.stringify(r)}`);
  for (let i = 0; i < 100; i++) {
    await new Promise((r) => setTimeout(r, 10));
    const r = await ngx.flush(true);
    if (r[0] !== 1) {
      note('flush(true)', r);
      break;
    }
  }
  note('say', ngx.say('more'));
  note('print', ngx.print('more'));
  note('flush()', await ngx.flush());
  note('flush(true)', await ngx.flush(true));
  (ngx.shared.d as SharedDict).set('results', results.join(' '));
}

/** Serves `content`, reads the first chunk and leaves; resolves with what the handler noted afterwards. */
async function resultsAfterLeaving(content: unknown): Promise<string> {
  let done!: (v: string) => void;
  const results = new Promise<string>((r) => (done = r));
  const port = await serve({
    sharedDicts: { d: '64k' },
    locations: [{ match: '/', content: content as never, log: (ngx) => done(String((ngx.shared.d as SharedDict).get('results'))) }],
  });
  expect(await readFirstChunkAndLeave(port)).toContain('first\n');
  return results;
}

describe('output after the client has gone', () => {
  it('Lua: say, print and flush return nil, "nginx output filter error"', async () => {
    const err = 'nil,nginx output filter error';
    expect(await resultsAfterLeaving({ lua: LUA })).toBe(`flush(true)=${err} say=${err} print=${err} flush()=${err} flush(true)=${err}`);
  });

  it('TypeScript: say and print return false, flush resolves to [undefined, "nginx output filter error"]', async () => {
    const err = '[null,"nginx output filter error"]';
    expect(await resultsAfterLeaving(tsHandler)).toBe(`flush(true)=${err} say=false print=false flush()=${err} flush(true)=${err}`);
  });

  it('while the client stays, flush(true) returns 1 ([1] in TypeScript)', async () => {
    const port = await serve({ locations: [
      { match: '= /lua', content: { lua: 'ngx.say("a") local ok, err = ngx.flush(true) ngx.say(ok, " ", err)' } },
      { match: '= /ts', content: async (ngx) => { ngx.say('a'); ngx.say(JSON.stringify(await ngx.flush(true))); } },
    ] });
    const get = (path: string) => new Promise<string>((resolve) => {
      const chunks: Buffer[] = [];
      const sock = connect(port, '127.0.0.1', () => sock.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
      sock.on('data', (d) => chunks.push(d));
      sock.on('close', () => resolve(Buffer.concat(chunks).toString()));
    });
    expect(await get('/lua')).toContain('2\r\na\n\r\n6\r\n1 nil\n\r\n0\r\n\r\n');
    expect(await get('/ts')).toContain('2\r\na\n\r\n4\r\n[1]\n\r\n0\r\n\r\n');
  });
});
