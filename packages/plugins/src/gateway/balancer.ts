// gatewayBalancer: the balancer handler of the upstream a gateway location proxies to. It runs the
// plugins' balancer methods, then picks the dynamic route's target (round robin, a failed target
// sits out, the other targets are tried next), as Kong's balancer phase does.

import type { Ngx } from '@phasekit/core';
import { runs } from './runs.js';

/**
 * Give it as an upstream's balancer (`upstreams: { gateway: { balancer: gatewayBalancer } }`) and
 * proxy a `dynamicRoutes` location there. Requests of other locations with plugins run their
 * plugins' balancer methods; the upstream's own servers are used when no target is set.
 */
export function gatewayBalancer(ngx: Ngx): void {
  const run = runs.get(ngx);
  if (run === undefined) return;
  run.chain.runFilter('balancer', ngx, undefined);
  const upstream = run.upstream;
  if (upstream === undefined) return;
  const now = ngx.now() * 1000;
  const [state] = ngx.balancer.getLastFailure();
  if (state === 'failed' && run.last !== undefined) upstream.failed(run.last, now);
  const tried = (run.tried ??= new Set());
  const target = upstream.pick(now, tried);
  if (target === undefined) throw new Error(`no target left to try in upstream "${upstream.name}" of route "${run.route}"`);
  if (state === undefined && upstream.targets.length > 1) ngx.balancer.setMoreTries(upstream.targets.length - 1);
  tried.add(target.address);
  run.last = target;
  ngx.balancer.setCurrentPeer(target.host, target.port);
}
