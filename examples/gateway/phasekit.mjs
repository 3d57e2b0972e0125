// The gateway demo: two backends behind a phasekit gateway with Lua in every phase it needs.
// `pnpm demo` serves it with `phasekit serve` on 127.0.0.1:8080 (backends on 9001 and 9002;
// GATEWAY_BACKEND_PORTS="0,0" picks free ports).
import { startBackends } from './backends.mjs';

const ports = (process.env.GATEWAY_BACKEND_PORTS ?? '9001,9002').split(',').map(Number);
export const backends = await startBackends(ports);

/** @type {import('phasekit').EngineConfig} */
export default {
  sharedDicts: { config: '1m', limits: '1m', stats: '1m' },
  lua: { packagePath: './lua/?.lua;;' },
  // The backend list is known only once they listen; routes and API keys come from lua/routes.lua.
  init: { lua: `ngx.shared.config:set("servers", ${JSON.stringify(JSON.stringify(backends.addresses))})` },
  initWorker: { luaFile: 'lua/init_worker.lua' },
  upstreams: {
    backends: { balancer: { luaFile: 'lua/balancer.lua' } },
  },
  locations: [
    {
      match: '/api/',
      access: { luaFile: 'lua/access.lua' },
      proxyPass: 'http://backends',
      proxy: { xForwardedFor: true, nextUpstream: ['error', 'timeout', 'http_502'] },
      headerFilter: { lua: 'ngx.header["X-Upstream"] = ngx.var.upstream_addr' },
      log: { luaFile: 'lua/log.lua' },
    },
    { match: '= /status', content: { luaFile: 'lua/status.lua' } },
  ],
};
