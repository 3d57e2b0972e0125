// How a location's handlers are wrapped: its chain's methods run before its own handler of each
// phase. A dynamic-routes location first finds the request's route (and so its chain).

import type { LocationCompile, Ngx } from '@phasekit/core';
import { kongExit } from './builtins/common.js';
import type { Chain } from './chain.js';
import type { Consumers } from './consumers.js';
import type { PluginError } from './errors.js';
import { hostOf, type Gateway, type RoutesView } from './gateway/gateway.js';
import { runs, type RequestRun } from './gateway/runs.js';

export interface WrapHost {
  readonly consumers: Consumers;
  /** Logs a log-phase plugin failure (the others still ran). */
  logFailure(ngx: Ngx, location: string, err: PluginError): void;
}

/** A location with a fixed chain: only the phases some plugin has a method for are wrapped. */
export function wrapStatic(loc: LocationCompile, chain: Chain, host: WrapHost): void {
  if (chain.instances.length === 0) return;
  const own = { rewrite: loc.rewrite, access: loc.access, headerFilter: loc.headerFilter, bodyFilter: loc.bodyFilter, log: loc.log };
  // The balancer (gatewayBalancer) finds the chain through the request's run.
  const keepRun = chain.has('balancer');
  if (chain.has('rewrite') || keepRun) {
    loc.rewrite = (ngx) => {
      if (keepRun) runs.set(ngx, { chain, consumers: host.consumers, route: undefined, upstream: undefined, tried: undefined, last: undefined });
      return chain.runRequest('rewrite', ngx, own.rewrite);
    };
  }
  if (chain.has('access')) loc.access = (ngx) => chain.runRequest('access', ngx, own.access);
  if (chain.has('headerFilter')) loc.headerFilter = (ngx) => chain.runFilter('headerFilter', ngx, own.headerFilter);
  if (chain.has('bodyFilter')) loc.bodyFilter = (ngx) => chain.runFilter('bodyFilter', ngx, own.bodyFilter);
  if (chain.has('log')) loc.log = (ngx) => chain.runLog(ngx, own.log, (err) => host.logFailure(ngx, loc.name, err));
}

/** A dynamic-routes location: rewrite finds the route (404 as Kong when none), every phase runs that route's chain. */
export function wrapDynamic(loc: LocationCompile, gateway: Gateway, fallback: Chain, host: WrapHost): void {
  const own = { rewrite: loc.rewrite, access: loc.access, headerFilter: loc.headerFilter, bodyFilter: loc.bodyFilter, log: loc.log };
  const path = loc.path;
  const chainOf = (ngx: Ngx): Chain => runs.get(ngx)?.chain ?? fallback;
  loc.rewrite = (ngx) => {
    const view = gateway.current();
    const run = route(ngx, view, path, fallback, host);
    runs.set(ngx, run);
    if (run.route === undefined) return kongExit(ngx, 404, 'no Route matched with those values');
    return run.chain.runRequest('rewrite', ngx, own.rewrite);
  };
  loc.access = (ngx) => chainOf(ngx).runRequest('access', ngx, own.access);
  loc.headerFilter = (ngx) => chainOf(ngx).runFilter('headerFilter', ngx, own.headerFilter);
  loc.bodyFilter = (ngx) => chainOf(ngx).runFilter('bodyFilter', ngx, own.bodyFilter);
  loc.log = (ngx) => chainOf(ngx).runLog(ngx, own.log, (err) => host.logFailure(ngx, loc.name, err));
}

function route(ngx: Ngx, view: RoutesView | undefined, path: string, fallback: Chain, host: WrapHost): RequestRun {
  const none = (chain: Chain, consumers: Consumers): RequestRun => ({ chain, consumers, route: undefined, upstream: undefined, tried: undefined, last: undefined });
  if (view === undefined) return none(fallback, host.consumers);
  const uri = String(ngx.var.uri ?? '/');
  const m = view.router.match(ngx.req.getMethod(), hostOf(ngx), uri);
  if (m === undefined) return none(view.unrouted.get(path) ?? fallback, view.consumers);
  const r = m.route;
  if (r.config.strip_path && m.matched !== '' && m.matched !== '/') {
    const rest = uri.slice(m.matched.length);
    ngx.req.setUri(rest.startsWith('/') ? rest : `/${rest}`);
  }
  return { chain: r.chains.get(path) ?? fallback, consumers: view.consumers, route: r.config.name, upstream: r.upstream, tried: undefined, last: undefined };
}

