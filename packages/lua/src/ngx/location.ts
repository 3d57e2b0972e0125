// ngx.location.capture / capture_multi: subrequests from Lua, waiting without blocking.

import type { CaptureOptions, CaptureResult } from '@phasekit/core';
import type { LuaCall, LuaRef } from '../vm/index.js';
import { guard, type RequestInstall } from './request.js';

// Options cross to JS as 8 values per subrequest; results come back flat and are rebuilt here.
const LOCATION_LUA = String.raw`
local ngx, js_capture, encode_args = ...
local type, error, select, unpack, pcall = type, error, select, table.unpack, pcall
local lower, gsub, pairs, setmetatable = string.lower, string.gsub, pairs, setmetatable
-- res.header answers any spelling of a name ("X-Backend" finds "x-backend"), as get_headers does
local header_mt = {
  __index = function(t, k)
    if type(k) ~= "string" then return nil end
    local want = gsub(lower(k), "_", "-")
    for name, v in pairs(t) do
      if lower(name) == want then return v end
    end
    return nil
  end,
}
local function flatten(requests)
  local out, n = {}, 0
  for i = 1, #requests do
    local r = requests[i]
    if type(r) ~= "table" then error("bad argument #1 to 'capture_multi' (table expected)", 3) end
    local uri, opts = r[1], r[2] or {}
    if type(uri) ~= "string" then error("bad argument #1 to 'capture' (string expected, got " .. type(uri) .. ")", 3) end
    if type(opts) ~= "table" then error("bad argument #2 to 'capture' (table expected, got " .. type(opts) .. ")", 3) end
    local args = opts.args
    if type(args) == "table" then args = encode_args(args) end
    local vars = opts.vars
    if type(vars) == "table" then vars = encode_args(vars) end
    local flags = (opts.copy_all_vars and 1 or 0) + (opts.share_all_vars and 2 or 0) + (opts.always_forward_body and 4 or 0)
    out[n + 1], out[n + 2], out[n + 3], out[n + 4] = uri, opts.method, opts.body, args
    out[n + 5], out[n + 6], out[n + 7], out[n + 8] = opts.ctx, vars, flags, false
    n = n + 8
  end
  return n, out
end
local function results(count, ...)
  local res, pos = {}, 1
  for i = 1, count do
    local status, body, truncated, nh = select(pos, ...)
    local header = {}
    for j = 0, nh - 1 do
      local k, v = select(pos + 4 + j * 2, ...)
      local prev = header[k]
      if prev == nil then header[k] = v elseif type(prev) == "table" then prev[#prev + 1] = v else header[k] = { prev, v } end
    end
    res[i] = { status = status, body = body, truncated = truncated, header = setmetatable(header, header_mt) }
    pos = pos + 4 + nh * 2
  end
  return res
end
-- Errors of the subrequests themselves are raised without a position, as lua-nginx-module's C raises them.
local function checked(ok, ...)
  if not ok then error((...), 0) end
  return ...
end
ngx.location = {}
function ngx.location.capture_multi(requests)
  if type(requests) ~= "table" then error("bad argument #1 to 'capture_multi' (table expected, got " .. type(requests) .. ")", 2) end
  if #requests == 0 then error("at least one subrequest should be specified", 0) end
  local n, flat = flatten(requests)
  return unpack(results(#requests, checked(pcall(js_capture, n, unpack(flat, 1, n)))))
end
function ngx.location.capture(uri, opts)
  local n, flat = flatten({ { uri, opts } })
  return results(1, checked(pcall(js_capture, n, unpack(flat, 1, n))))[1]
end
`;

export function installLocation(ctx: RequestInstall, adoptCtx: (ref: LuaRef) => Record<string, unknown>): void {
  const { vm, ngx } = ctx;
  const capture = vm.createFunction((call) => {
    const r = ctx.request(call);
    const n = call.checkNumber(1);
    const requests: [string, CaptureOptions][] = [];
    const anchored: LuaRef[] = [];
    const adopt = (ref: LuaRef) => {
      anchored.push(ref);
      return adoptCtx(ref);
    };
    for (let i = 2; i < n + 2; i += 8) requests.push(readOptions(call, i, adopt));
    // The ctx tables handed over stay anchored while the subrequests run, no longer.
    const release = () => anchored.forEach((ref) => ref.release());
    let pending: Promise<CaptureResult[]>;
    try {
      pending = guard(call, () => r.location.captureMulti(requests)).finally(release);
    } catch (err) {
      release();
      throw err;
    }
    return call.yield(pending, (c, value) => pushResults(c, value as CaptureResult[]));
  }, 'ngx.location.capture');
  vm.run(LOCATION_LUA, 'ngx.location', ngx, capture, vm.getField(ngx, 'encode_args') ?? null);
}

function readOptions(call: LuaCall, i: number, adoptCtx: (ref: LuaRef) => Record<string, unknown>): [string, CaptureOptions] {
  const uri = call.checkString(i);
  const options: CaptureOptions = {};
  const method = call.value(i + 1);
  if (typeof method === 'number') options.method = method;
  const body = call.value(i + 2);
  if (typeof body === 'string' || body instanceof Uint8Array) options.body = body;
  const args = call.value(i + 3);
  if (typeof args === 'string') options.args = args;
  if (call.type(i + 4) === 'table') options.ctx = adoptCtx(call.ref(i + 4) as LuaRef);
  const vars = call.value(i + 5);
  if (typeof vars === 'string') options.vars = Object.fromEntries(new URLSearchParams(vars));
  const flags = call.number(i + 6) ?? 0;
  if (flags & 1) options.copy_all_vars = true;
  if (flags & 2) options.share_all_vars = true;
  if (flags & 4) options.always_forward_body = true;
  return [uri, options];
}

function pushResults(call: LuaCall, results: CaptureResult[]): number {
  let n = 0;
  for (const r of results) {
    call.pushNumber(r.status);
    call.pushBytes(r.bodyBytes);
    call.pushBoolean(r.truncated);
    const pairs = Object.entries(r.header).flatMap(([k, v]) => (Array.isArray(v) ? v.map((x) => [k, x]) : [[k, v]]));
    call.pushNumber(pairs.length);
    for (const [k, v] of pairs) {
      call.pushString(k as string);
      call.pushString(v as string);
    }
    n += 4 + pairs.length * 2;
  }
  return n;
}
