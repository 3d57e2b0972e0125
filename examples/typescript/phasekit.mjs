// The demo with TypeScript handlers: the same API as examples/demo, served by `phasekit serve`.
// (Plain .mjs so it runs without a build; handlers get the same `ngx` API as in OpenResty.)

/** @type {import('phasekit').EngineConfig} */
export default {
  sharedDicts: { stats: '1m', limits: '1m' },
  init: (ngx) => {
    ngx.shared.stats.set('started', new Date(ngx.now() * 1000).toISOString());
  },
  locations: [
    {
      match: '= /hello',
      content: (ngx) => ngx.say('hello from phasekit, ', ngx.var.arg_name ?? 'world'),
    },
    {
      match: '/api/',
      rewrite: (ngx) => {
        ngx.ctx.started = ngx.now();
      },
      access: (ngx) => {
        if (ngx.var.arg_key !== 'demo') return ngx.exit(ngx.HTTP_UNAUTHORIZED);
        // 5 requests per 10 seconds per client, counted in a shared dict.
        const [count] = ngx.shared.limits.incr(`rate:${ngx.var.remote_addr}`, 1, 0, 10);
        if (count > 5) {
          ngx.header['Retry-After'] = '10';
          return ngx.exit(ngx.HTTP_TOO_MANY_REQUESTS);
        }
      },
      content: (ngx) => {
        ngx.header.content_type = 'application/json';
        ngx.say(JSON.stringify({ path: ngx.var.uri, args: ngx.req.getUriArgs(), method: ngx.req.getMethod() }));
      },
      headerFilter: (ngx) => {
        ngx.header['X-Phases'] = 'rewrite,access,content,header_filter,body_filter,log';
      },
      bodyFilter: (ngx) => {
        if (ngx.var.arg_shout) ngx.arg.chunk = String(ngx.arg.chunk).toUpperCase();
      },
      log: (ngx) => {
        ngx.shared.stats.incr(`status:${ngx.var.status}`, 1, 0);
      },
    },
    {
      match: '= /old',
      access: (ngx) => ngx.redirect('/hello?name=redirected', ngx.HTTP_MOVED_PERMANENTLY),
    },
    {
      match: '= /status',
      content: (ngx) => {
        const stats = ngx.shared.stats;
        ngx.say('started ', stats.get('started'));
        for (const key of stats.getKeys(0).filter((k) => k.startsWith('status:')).sort()) ngx.say(key, ' ', stats.get(key));
      },
    },
  ],
};
