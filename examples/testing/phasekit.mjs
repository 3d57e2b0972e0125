// The example app: a Lua rate limiter in access, a TypeScript header filter, a tiny API.
// Serve it with `node --import tsx node_modules/phasekit/bin/phasekit.mjs serve examples/testing/phasekit.mjs`
// (tsx loads header-filter.ts); the tests import it directly.

import { securityHeaders } from './header-filter.ts';

/** @type {import('phasekit').EngineConfig} */
export default {
  sharedDicts: { limits: '1m' },
  locations: [
    {
      match: '/api/',
      vars: { rate_limit: '10', rate_window: '60' },
      access: { luaFile: 'lua/rate-limit.lua' },
      content: (ngx) => {
        ngx.header['Content-Type'] = 'application/json';
        ngx.say(JSON.stringify({ path: ngx.var.uri }));
      },
      headerFilter: securityHeaders,
    },
  ],
};
