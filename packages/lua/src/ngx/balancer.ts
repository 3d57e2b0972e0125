// require("ngx.balancer") in the balancer phase: set_current_peer, set_more_tries, get_last_failure, set_timeouts.

import { guard, type RequestInstall } from './request.js';

const BALANCER_LUA = String.raw`
local preload, js = ...
preload["ngx.balancer"] = function()
  local balancer = {}
  function balancer.set_current_peer(host, port)
    if type(host) ~= "string" then return nil, "bad host" end
    if port == nil then
      local h, p = host:match("^(.*):(%d+)$")
      if h then host, port = h, tonumber(p) end
    end
    return js.set_current_peer(host, tonumber(port))
  end
  function balancer.set_more_tries(count) return js.set_more_tries(count) end
  function balancer.get_last_failure() return js.get_last_failure() end
  function balancer.set_timeouts(connect, send, read) return js.set_timeouts(connect, send, read) end
  return balancer
end
`;

export function installBalancer(ctx: RequestInstall): void {
  const { vm } = ctx;
  const js = vm.newTable();
  ctx.fn(js, 'set_current_peer', (call) => {
    const r = ctx.request(call);
    const host = call.checkString(1);
    const port = call.number(2);
    try {
      r.balancer.setCurrentPeer(host, port ?? NaN);
      call.pushBoolean(true);
      return 1;
    } catch (err) {
      if ((err as { code?: string }).code === 'PHASEKIT_ERR_API_DISABLED') return call.raiseError((err as Error).message);
      call.pushNil();
      call.pushString((err as Error).message);
      return 2;
    }
  });
  ctx.fn(js, 'set_more_tries', (call) => {
    const r = ctx.request(call);
    const count = call.checkNumber(1);
    const [ok, err] = guard(call, () => r.balancer.setMoreTries(count));
    call.pushBoolean(ok);
    if (err === undefined) return 1;
    call.pushString(err);
    return 2;
  });
  ctx.fn(js, 'get_last_failure', (call) => {
    const r = ctx.request(call);
    const [state, status] = guard(call, () => r.balancer.getLastFailure());
    call.pushValue(state ?? null);
    call.pushValue(status ?? null);
    return 2;
  });
  ctx.fn(js, 'set_timeouts', (call) => {
    const r = ctx.request(call);
    guard(call, () => r.balancer.setTimeouts(call.number(1), call.number(2), call.number(3)));
    call.pushBoolean(true);
    return 1;
  });
  vm.run(BALANCER_LUA, 'ngx.balancer', ctx.preload, js);
}
