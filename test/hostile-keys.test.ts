// User-controlled keys are plain data everywhere: a header, arg, post arg, cookie, variable,
// dict, cjson key, ngx.ctx key or response header named like an Object.prototype member
// (`constructor`, `__proto__`, `toString`, `hasOwnProperty`) reads as what was sent, or as
// nothing, and never reaches or changes a prototype.
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { createEngine, createHandler, type EngineConfig, type Ngx, type SharedDict } from 'phasekit';

const KEYS = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'] as const;

const servers: Server[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => { s.closeAllConnections(); s.close(r); })));
});

async function serve(config: EngineConfig) {
  const logs: string[] = [];
  const engine = await createEngine(config, { logger: (e) => logs.push(e.message) });
  const server = createServer(createHandler(engine));
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, logs, engine };
}

/** A raw request (header names exactly as given), its status line and body. */
function send(port: number, path: string, headers: [string, string][], body = ''): Promise<{ status: number; headers: string; body: string }> {
  return new Promise((resolve, reject) => {
    const lines = [`${body ? 'POST' : 'GET'} ${path} HTTP/1.1`, 'Host: x', 'Connection: close', ...headers.map(([k, v]) => `${k}: ${v}`)];
    if (body) lines.push('Content-Type: application/x-www-form-urlencoded', `Content-Length: ${Buffer.byteLength(body)}`);
    const chunks: Buffer[] = [];
    const sock = connect(port, '127.0.0.1', () => sock.write(`${lines.join('\r\n')}\r\n\r\n${body}`));
    sock.on('data', (d) => chunks.push(d));
    sock.on('error', reject);
    sock.on('close', () => {
      const text = Buffer.concat(chunks).toString();
      const split = text.indexOf('\r\n\r\n');
      resolve({ status: Number(text.slice(9, 12)), headers: text.slice(0, split), body: text.slice(split + 4) });
    });
  });
}

const query = KEYS.map((k, i) => `${k}=a${i}`).join('&');
const cookie = KEYS.map((k, i) => `${k}=c${i}`).join('; ');
const reqHeaders = KEYS.map((k, i): [string, string] => [k, `h${i}`]);

/** Every read a handler can make with a hostile key, as one line per key; the same in both languages. */
const luaReads = `
  ngx.req.read_body()
  local h, a, p = ngx.req.get_headers(), ngx.req.get_uri_args(), ngx.req.get_post_args()
  local hr = ngx.req.get_headers(0, true)
  local cj = require("cjson")
  for _, k in ipairs({${KEYS.map((k) => `"${k}"`).join(', ')}}) do
    local decoded = cj.decode('{"' .. k .. '":"j","x":1}')
    local roundtrip = cj.decode(cj.encode(decoded))
    ngx.say(k, " header=", tostring(h[k]), " raw=", tostring(hr[k]), " var=", tostring(ngx.var["http_" .. k]),
      " arg=", tostring(a[k]), " argvar=", tostring(ngx.var["arg_" .. k]), " post=", tostring(p[k]),
      " cookie=", tostring(ngx.var["cookie_" .. k]), " ctx=", tostring(ngx.ctx[k]), " dict=", type(ngx.shared[k]),
      " json=", tostring(decoded[k]), " rt=", tostring(roundtrip[k]), " resp=", tostring(ngx.header[k]),
      " nginxvar=", tostring(ngx.var[k]))
  end
`;

function tsReads(ngx: Ngx): void {
  const h = ngx.req.getHeaders() as Record<string, unknown>;
  const hr = ngx.req.getHeaders(0, true) as Record<string, unknown>;
  const a = ngx.req.getUriArgs() as Record<string, unknown>;
  const p = ngx.req.getPostArgs() as Record<string, unknown>;
  const ctx = ngx.ctx;
  const shared = ngx.shared as Record<string, unknown>;
  const header = ngx.header as Record<string, unknown>;
  const vars = ngx.var as Record<string, unknown>;
  const str = (v: unknown) => (v === undefined || v === null ? 'nil' : typeof v === 'string' ? v : typeof v);
  for (const k of KEYS) {
    const json = JSON.parse(`{"${k}":"j","x":1}`) as Record<string, unknown>;
    ngx.say(`${k} header=${str(h[k])} raw=${str(hr[k])} var=${str(vars[`http_${k}`])} arg=${str(a[k])} argvar=${str(vars[`arg_${k}`])} post=${str(p[k])} cookie=${str(vars[`cookie_${k}`])} ctx=${str(ctx[k])} dict=${shared[k] === undefined ? 'nil' : 'table'} json=${str(json[k])} rt=${str(json[k])} resp=${str(header[k])} nginxvar=${str(vars[k])}`);
  }
}

const expected = (lang: string) => KEYS.map((k, i) => {
  // Request header names are lower-cased for get_headers; http_NAME reads NAME with "_" as "-".
  const lower = k.toLowerCase();
  const header = `h${i}`;
  const viaVar = k.includes('_') ? 'nil' : header;
  // Lua's get_headers() table also finds a key in any case (OpenResty's __index), TypeScript's is lower-case.
  return `${k} header=${k === lower || lang === 'Lua' ? header : 'nil'} raw=${header} var=${viaVar} arg=a${i} argvar=a${i} post=p${i} cookie=c${i} ctx=nil dict=nil json=j rt=j resp=nil nginxvar=nil`;
}).join('\n') + '\n';

describe('hostile keys are plain data', () => {
  it.each([
    ['Lua', { lua: luaReads }],
    ['TypeScript', async (ngx: Ngx) => { await ngx.req.readBody(); tsReads(ngx); }],
  ] as const)('%s: request headers, args, post args, cookies, vars, dicts, JSON keys, ctx, response headers', async (lang, content) => {
    const { port, logs } = await serve({ locations: [{ match: '/', content: content as never }] });
    const res = await send(port, `/?${query}`, [...reqHeaders, ['Cookie', cookie]], KEYS.map((k, i) => `${k}=p${i}`).join('&'));
    expect(logs).toEqual([]);
    expect(res.status).toBe(200);
    expect(res.body).toBe(expected(lang));
  });

  const NAMES = KEYS.filter((k) => k !== '__proto__');
  const writeConfig = (phases: Record<'rewrite' | 'content', unknown>): EngineConfig => ({
    sharedDicts: Object.fromEntries(NAMES.map((k) => [k, '64k'])),
    locations: [{ match: '/', vars: Object.fromEntries(NAMES.map((k) => [k, 'declared'])), ...(phases as object) }],
  });

  it.each([
    ['Lua', {
      rewrite: { lua: `for i, k in ipairs({${KEYS.map((k) => `"${k}"`).join(', ')}}) do ngx.ctx[k] = "x" .. i end` },
      content: { lua: `
        for i, k in ipairs({${KEYS.map((k) => `"${k}"`).join(', ')}}) do ngx.header[k] = "r" .. i end
        for i, k in ipairs({${NAMES.map((k) => `"${k}"`).join(', ')}}) do
          local before = ngx.var[k]
          ngx.var[k] = "v" .. i
          assert(ngx.shared[k]:set(k, i))
          ngx.say(k, " ctx=", ngx.ctx[k], " var=", before, ">", ngx.var[k], " dict=", ngx.shared[k]:get(k), " header=", ngx.header[k])
        end
        ngx.say("__proto__ ctx=", ngx.ctx.__proto__, " header=", ngx.header.__proto__, " dict=", type(ngx.shared.__proto__))` },
    }],
    ['TypeScript', {
      rewrite: (ngx: Ngx) => { KEYS.forEach((k, i) => { ngx.ctx[k] = `x${i + 1}`; }); },
      content: (ngx: Ngx) => {
        const header = ngx.header as Record<string, unknown>;
        const vars = ngx.var as Record<string, unknown>;
        KEYS.forEach((k, i) => { header[k] = `r${i + 1}`; });
        NAMES.forEach((k, i) => {
          const before = vars[k] as string;
          vars[k] = `v${i + 1}`;
          const dict = ngx.shared[k] as SharedDict;
          dict.set(k, i + 1);
          ngx.say(`${k} ctx=${ngx.ctx[k] as string} var=${before}>${vars[k] as string} dict=${String(dict.get(k))} header=${header[k] as string}`);
        });
        ngx.say(`__proto__ ctx=${ngx.ctx.__proto__ as string} header=${header.__proto__ as string} dict=${typeof ngx.shared.__proto__}`);
      },
    }],
  ] as const)('%s: ctx keys, declared variables, dicts and response headers with hostile names are written and read back', async (_lang, phases) => {
    const { port, logs } = await serve(writeConfig(phases));
    const res = await send(port, '/', []);
    expect(logs).toEqual([]);
    expect(res.status).toBe(200);
    const lines = NAMES.map((k) => {
      const i = KEYS.indexOf(k) + 1;
      return `${k} ctx=x${i} var=declared>v${NAMES.indexOf(k) + 1} dict=${NAMES.indexOf(k) + 1} header=r${i}`;
    });
    expect(res.body).toBe(`${lines.join('\n')}\n__proto__ ctx=x2 header=r2 dict=${_lang === 'Lua' ? 'nil' : 'undefined'}\n`);
    // Response header names go out as set ("_" as "-", as OpenResty sends them).
    for (const [i, k] of KEYS.entries()) expect(res.headers).toContain(`\r\n${k.replace(/_/g, '-')}: r${i + 1}\r\n`);
  });

  it('nothing reached Object.prototype', () => {
    const probe: Record<string, unknown> = {};
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(Object.getOwnPropertyNames(Object.getPrototypeOf(probe)).sort());
    for (const k of ['a0', 'h0', 'x1', 'r1', 'v1', 'j']) expect(Object.values(Object.prototype)).not.toContain(k);
    expect(typeof probe.toString).toBe('function');
    expect(typeof probe.hasOwnProperty).toBe('function');
  });
});
