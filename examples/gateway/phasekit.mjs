// The gateway demo: two backends behind a gateway built from plugins. Routes, upstreams, consumers
// and route plugins live in routes.json, which an initWorker timer reloads into a shared dict every
// second: edit it while the demo runs. `pnpm demo` serves this with `phasekit serve` on
// 127.0.0.1:8080 (backends on 9001 and 9002; GATEWAY_BACKEND_PORTS="0,0" picks free ports and
// GATEWAY_ROUTES names another routes file).
import { gatewayBalancer } from 'phasekit';
import { startBackends } from './backends.mjs';

const ports = (process.env.GATEWAY_BACKEND_PORTS ?? '9001,9002').split(',').map(Number);
export const backends = await startBackends(ports);

/** @type {import('phasekit').EngineConfig} */
export default {
  sharedDicts: { gateway: '1m', rate_limiting_counters: '1m', prometheus_metrics: '1m' },
  // The demo's own Lua plugin: lua/phasekit/plugins/demo-plan/{handler,schema}.lua.
  lua: { packagePath: './lua/?.lua;;' },
  dynamicRoutes: { dict: 'gateway', file: process.env.GATEWAY_ROUTES ?? 'routes.json', interval: 1 },
  // Global plugins: every request gets a request id and is counted.
  plugins: [{ name: 'correlation-id', config: { echo_downstream: true } }, { name: 'prometheus' }],
  // Kong's design: one upstream whose balancer picks the route's target.
  upstreams: { gateway: { balancer: gatewayBalancer } },
  locations: [
    { match: '/', dynamicRoutes: true, proxyPass: 'http://gateway', proxy: { xForwardedFor: true, nextUpstream: ['error', 'timeout', 'http_502'] } },
    { match: '= /metrics', prometheusMetrics: true },
  ],
};
