// ngx.header (response headers) and ngx.resp.get_headers.

import type { HeaderValue } from '@phasekit/core';
import type { LuaCall } from '../vm/index.js';
import { guard, okOrMessage, pushPairs, pushTruncated, type RequestInstall } from './request.js';

// Multi-value headers cross as several values; tables are built and flattened on the Lua side.
const HEADER_LUA = String.raw`
local ngx, get, set, resp_headers, to_table = ...
local type, tostring, error, select = type, tostring, error, select
local function pack(n, ...)
  if n == 0 then return nil end
  if n == 1 then return (...) end
  return { ... }
end
ngx.header = setmetatable({}, {
  __index = function(_, k) return pack(get(k)) end,
  __newindex = function(_, k, v)
    if type(v) == "table" then
      -- A copy: the caller's table stays as it was.
      local n, items = #v, {}
      for i = 1, n do
        local item = v[i]
        if type(item) == "number" and math.type(item) == "float" then items[i] = string.format("%.14g", item) else items[i] = tostring(item) end
      end
      local ok, err = set(k, n, table.unpack(items, 1, n))
      if not ok then error(err, 2) end
      return
    end
    if v ~= nil and type(v) ~= "string" then
      if type(v) == "number" and math.type(v) == "float" then v = string.format("%.14g", v) else v = tostring(v) end
    end
    local ok, err = set(k, v == nil and -1 or 1, v)
    if not ok then error(err, 2) end
  end,
})
ngx.resp = ngx.resp or {}
-- resp_headers answers whether max cut the headers short, then the pairs.
local function headers_table(truncated, ...)
  local t = to_table(...)
  if truncated then return t, "truncated" end
  return t
end
function ngx.resp.get_headers(max, raw)
  return headers_table(resp_headers(max or 100, raw and true or false))
end
`;

/** Pushes a header value (string or several strings); returns how many values were pushed. */
function pushHeader(call: LuaCall, v: HeaderValue | undefined): number {
  if (v === undefined) {
    call.pushNumber(0);
    return 1;
  }
  if (Array.isArray(v)) {
    call.pushNumber(v.length);
    for (const item of v) call.pushString(item);
    return v.length + 1;
  }
  call.pushNumber(1);
  call.pushString(v);
  return 2;
}

export function installHeader(ctx: RequestInstall): void {
  const { vm, ngx } = ctx;
  const get = vm.createFunction((call) => {
    const r = ctx.request(call);
    const name = call.checkString(1);
    return pushHeader(call, guard(call, () => r.header[name]) as HeaderValue | undefined);
  }, 'ngx.header');
  const set = vm.createFunction((call) => {
    const r = ctx.request(call);
    const name = call.checkString(1);
    const n = call.checkNumber(2);
    let value: HeaderValue | undefined;
    if (n === -1) value = undefined;
    else if (n === 1 && call.argCount === 3 && call.type(3) === 'string') value = call.string(3) ?? '';
    else value = Array.from({ length: Math.max(0, n) }, (_, i) => call.string(i + 3) ?? '');
    return okOrMessage(call, () => {
      r.header[name] = value;
    });
  }, 'ngx.header=');
  const respHeaders = vm.createFunction((call) => {
    const r = ctx.request(call);
    const max = call.number(1) ?? 100;
    const raw = call.boolean(2);
    const headers = guard(call, () => r.resp.getHeaders(max, raw));
    pushTruncated(call, headers, max, () => r.resp.getHeaders(0, raw), (h) => Object.keys(h).length);
    return 1 + pushPairs(call, headers);
  }, 'ngx.resp.get_headers');
  vm.run(HEADER_LUA, 'ngx.header', ngx, get, set, respHeaders, ctx.pairsToTable);
}
