// ngx.balancer in the balancer phase: the peer, tries and timeouts of one upstream try.

import { BadArgumentError } from '../errors.js';
import type { RequestState } from '../request/state.js';
import { allow } from './check.js';
import type { NgxBalancer } from './types.js';

export function balancerApi(s: RequestState): NgxBalancer {
  const state = () => {
    allow(s, 'ngx.balancer');
    return (s.balancer ??= { peer: undefined, moreTries: 0, lastFailure: undefined, timeouts: undefined });
  };
  return {
    setCurrentPeer: (host, port) => {
      if (typeof host !== 'string' || host === '') throw new BadArgumentError('bad argument #1 to \'set_current_peer\' (host expected)');
      if (!Number.isInteger(port) || port < 1 || port > 65535) throw new BadArgumentError(`bad port number: ${String(port)}`);
      state().peer = { host, port };
    },
    setMoreTries: (count) => {
      const st = state();
      // nginx caps tries at 128 (NGX_HTTP_LUA_BALANCER_MAX_TRIES... as lua-resty-core reports).
      if (count > 128) {
        st.moreTries = 128;
        return [false, 'reduced tries due to limit'];
      }
      st.moreTries = count;
      return [true];
    },
    getLastFailure: () => {
      const failure = state().lastFailure;
      return failure === undefined ? [undefined, undefined] : [failure[0], failure[1]];
    },
    setTimeouts: (connect, send, read) => {
      state().timeouts = { connect, send, read };
    },
  };
}
