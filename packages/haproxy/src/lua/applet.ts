// HAProxy's AppletHTTP class for Lua services, over core's applet.

import { guard, pushPairs } from '@phasekit/lua';
import type { LuaCall, LuaRef } from '@phasekit/lua';
import type { HaproxyLua } from './context.js';
import { argString } from './txn.js';

const APPLET_LUA = String.raw`
local js, shared = ...
local setmetatable, tostring, type = setmetatable, tostring, type
local AppletHTTP = {}
AppletHTTP.__index = AppletHTTP
shared.vars(AppletHTTP)
function AppletHTTP.set_status(_, status, reason) return js.set_status(status, reason) end
function AppletHTTP.add_header(_, name, value) return js.add_header(tostring(name), tostring(value)) end
function AppletHTTP.start_response(_) return js.start_response() end
function AppletHTTP.send(_, msg)
  if type(msg) ~= "string" then msg = tostring(msg) end
  return js.send(msg)
end
function AppletHTTP.receive(_, size) return js.receive(size) end
function AppletHTTP.getline(_) return js.getline() end

-- The service wrapper: the applet object for the running request, then the service.
return function(fn)
  local a = setmetatable({ f = shared.F, sf = shared.SF, c = shared.C, sc = shared.SC }, AppletHTTP)
  a.method, a.version, a.path, a.qs, a.length = js.info()
  a.headers = shared.zero_based(js.headers())
  return fn(a)
end
`;

/** Installs AppletHTTP; returns the Lua function that runs a service function with its applet. */
export function installApplet(lua: HaproxyLua, shared: LuaRef): LuaRef {
  const { base, host } = lua;
  const { vm } = base;
  const js = vm.newTable();
  const fn = (name: string, f: (call: LuaCall) => number | void) => base.fn(js, name, f);
  const applet = (call: LuaCall) => {
    const ngx = base.request(call);
    return guard(call, () => host.applet(ngx));
  };

  fn('info', (call) => {
    const a = applet(call);
    call.pushString(a.method);
    call.pushString(a.version);
    call.pushString(a.path);
    call.pushString(a.qs);
    call.pushNumber(a.length);
    return 5;
  });
  fn('headers', (call) => pushPairs(call, applet(call).headers));
  fn('set_status', (call) => {
    const a = applet(call);
    const status = call.value(1);
    const reason = argString(call, 2);
    guard(call, () => a.setStatus(typeof status === 'bigint' ? Number(status) : (status as number), reason));
    return 0;
  });
  fn('add_header', (call) => {
    const a = applet(call);
    const name = call.checkString(1);
    const value = argString(call, 2) ?? '';
    guard(call, () => a.addHeader(name, value));
    return 0;
  });
  fn('start_response', (call) => {
    const a = applet(call);
    guard(call, () => a.startResponse());
    return 0;
  });
  fn('send', (call) => {
    const a = applet(call);
    const data = call.checkBytes(1);
    guard(call, () => a.send(data));
    return 0;
  });
  fn('receive', (call) => {
    const a = applet(call);
    const size = call.isNil(1) ? undefined : call.checkNumber(1);
    return call.yield(a.receiveBytes(size), (c, v) => {
      c.pushBytes(v as Uint8Array);
      return 1;
    });
  });
  fn('getline', (call) => {
    const a = applet(call);
    return call.yield(a.getlineBytes(), (c, v) => {
      c.pushBytes(v as Uint8Array);
      return 1;
    });
  });

  const [wrapper] = vm.run(APPLET_LUA, 'haproxy.applet', js, shared);
  return wrapper as LuaRef;
}
