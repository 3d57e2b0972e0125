// ngx.var: nginx variables, read and written through the request (one JS call per access).

import { BINARY_VARS } from '@phasekit/core';
import { guard, okOrMessage, type RequestInstall } from './request.js';

const VAR_LUA = String.raw`
local ngx, get, set = ...
local type, tostring, error = type, tostring, error
ngx.var = setmetatable({}, {
  -- Reads go straight to JS (the key is argument 2): one crossing, no Lua frame.
  __index = get,
  __newindex = function(_, k, v)
    local t = type(v)
    if t ~= "string" and t ~= "nil" then
      if t == "number" and math.type(v) == "float" then v = string.format("%.14g", v) else v = tostring(v) end
    end
    local ok, err = set(k, v)
    if not ok then error(err, 2) end
  end,
})
`;

export function installVar(ctx: RequestInstall): void {
  const { vm, ngx } = ctx;
  const get = vm.createFunction((call) => {
    const r = ctx.request(call);
    // __index(t, k): k is a name, or a number for regex captures (ngx.var[1]).
    const key = call.value(2);
    const name = typeof key === 'number' ? String(key) : typeof key === 'string' ? key : undefined;
    if (name === undefined) {
      call.pushNil();
      return 1;
    }
    const v = guard(call, () => r.var[name]) as string | undefined;
    // byte-valued variables ($binary_remote_addr, $request_body) are latin1 strings on the JS side;
    // the length test spares other reads a lower-casing
    if (v !== undefined && (name.length === 18 || name.length === 12) && BINARY_VARS.has(name.toLowerCase())) call.pushBytes(Buffer.from(v, 'latin1'));
    else call.pushValue(v);
    return 1;
  }, 'ngx.var');
  const set = vm.createFunction((call) => {
    const r = ctx.request(call);
    const name = call.checkString(1);
    const value = call.value(2);
    return okOrMessage(call, () => {
      r.var[name] = value === null ? undefined : (value as string);
    });
  }, 'ngx.var=');
  vm.run(VAR_LUA, 'ngx.var', ngx, get, set);
}
