// What a request's plugin phases share: its chain, and for a dynamic route its route and upstream
// (the balancer picks the target there). Kept per request, set in rewrite.

import type { Ngx } from '@phasekit/core';
import type { Chain } from '../chain.js';
import type { Consumers } from '../consumers.js';
import { peekSlots, slotsOf } from '../request-state.js';
import type { DynamicUpstream, Target } from './upstream.js';

export interface RequestRun {
  readonly chain: Chain;
  readonly consumers: Consumers;
  /** The dynamic route's name, when the request matched one. */
  readonly route: string | undefined;
  readonly upstream: DynamicUpstream | undefined;
  /** Targets tried so far, and the last one (the balancer marks it failed on the next try). */
  tried: Set<string> | undefined;
  last: Target | undefined;
}

/** The request's run (kept in its plugin slots: see request-state.ts). */
export const runs = {
  get(ngx: Ngx): RequestRun | undefined {
    return peekSlots(ngx)?.run as RequestRun | undefined;
  },
  set(ngx: Ngx, run: RequestRun): void {
    slotsOf(ngx).run = run;
  },
};
