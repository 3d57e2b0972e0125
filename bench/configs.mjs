// The engine configs the benchmarks share: the same work in TypeScript and in Lua.
// Each answers GET /bench with 200, text/plain, X-Phase: 1, body "HELLO\n".

/** TypeScript handlers in the six request phases. */
export const sixPhasesTs = {
  locations: [{
    match: '= /bench',
    rewrite: (ngx) => { ngx.ctx.started = true; },
    access: (ngx) => { if (ngx.var.arg_deny) return ngx.exit(403); },
    content: (ngx) => ngx.say('hello'),
    headerFilter: (ngx) => { ngx.header['X-Phase'] = '1'; },
    bodyFilter: (ngx) => { ngx.arg.chunk = String(ngx.arg.chunk).toUpperCase(); },
    log: (ngx) => { ngx.ctx.logged = true; },
  }],
};

/** Lua in the six request phases: rewrite sets ctx, access checks a var, content says, header_filter sets a header, body_filter upper-cases, log increments a dict. */
export const sixPhasesLua = {
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
};

/** One TypeScript content handler. */
export const contentTs = {
  locations: [{ match: '= /bench', content: (ngx) => { ngx.header['X-Phase'] = '1'; ngx.say('HELLO'); } }],
};

/** One Lua content handler. */
export const contentLua = {
  locations: [{ match: '= /bench', content: { lua: 'ngx.header["X-Phase"] = "1" ngx.say("HELLO")' } }],
};

/** A fabricated exchange for in-process runs: counts responses, sends nothing. */
export function fakeExchange(url = '/bench') {
  const exchange = {
    responses: 0,
    method: 'GET', url, httpVersion: '1.1', headers: { host: 'x' }, rawHeaders: ['Host', 'x'],
    remoteAddress: '127.0.0.1', remotePort: 1, localAddress: '127.0.0.1', localPort: 2, secure: false,
    readBody: () => Promise.resolve(new Uint8Array()),
    respond: () => void exchange.responses++,
    writeHead: () => undefined, write: () => true, end: (done) => done?.(false),
    drained: () => Promise.resolve(), abort: () => undefined,
  };
  return exchange;
}
