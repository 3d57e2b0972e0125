// ngx.req.*: method, headers, URI and args, body.

import { asText, checkRequestApi, encodeArgPairs, formatNumber, parseArgs } from '@phasekit/core';
import type { LuaCall } from '../vm/index.js';
import { guard, okOrMessage, pushArgs, pushPairs, pushTruncated, type RequestInstall } from './request.js';

const EMPTY = new Uint8Array(0);

const REQ_LUA = String.raw`
local ngx, to_table, fns = ...
local type, tostring, error, pairs, select = type, tostring, error, pairs, select
local lower, gsub = string.lower, string.gsub
local req = {}
ngx.req = req

-- get_headers() tables also answer mixed-case and underscore spellings, as OpenResty's do.
local header_mt = {
  __index = function(t, k)
    if type(k) ~= "string" then return nil end
    local norm = gsub(lower(k), "_", "-")
    if norm ~= k then return rawget(t, norm) end
    return nil
  end,
}
-- fns.get_headers answers whether max cut the headers short, then the pairs.
local function headers_table(raw, truncated, ...)
  local t = to_table(...)
  if not raw then setmetatable(t, header_mt) end
  if truncated then return t, "truncated" end
  return t
end
function req.get_headers(max, raw)
  raw = raw and true or false
  return headers_table(raw, fns.get_headers(max or 100, raw))
end
function req.raw_header(no_request_line) return fns.raw_header(no_request_line and true or false) end
function req.get_uri_args(max) return fns.get_uri_args(max or 100) end
function req.get_post_args(max)
  local ok, err = fns.post_args_ok()
  if not ok then error(err, 2) end
  return fns.get_post_args(max or 100)
end

-- Tables cross to JS as key, value pairs (arrays as repeated keys).
local function flatten(args)
  local out, n = {}, 0
  for k, v in pairs(args) do
    if type(v) == "table" then
      for i = 1, #v do n = n + 2; out[n - 1] = tostring(k); out[n] = v[i] end
    else
      n = n + 2; out[n - 1] = tostring(k); out[n] = v
    end
  end
  return n, out
end
function req.set_uri_args(args)
  if type(args) == "table" then
    local n, out = flatten(args)
    return fns.set_uri_args(n, table.unpack(out, 1, n))
  end
  if type(args) == "number" then
    args = math.type(args) == "float" and string.format("%.14g", args) or tostring(args)
  elseif type(args) ~= "string" then
    error("bad argument #1 to 'set_uri_args' (string or table expected, got " .. type(args) .. ")", 2)
  end
  return fns.set_uri_args(-1, args)
end
function req.set_header(name, value)
  if type(value) == "table" then
    local n = #value
    local vals = {}
    for i = 1, n do vals[i] = tostring(value[i]) end
    return fns.set_header(name, n, table.unpack(vals, 1, n))
  end
  if value == nil then return fns.set_header(name, -1) end
  return fns.set_header(name, 1, tostring(value))
end
function req.clear_header(name) return fns.set_header(name, -1) end
for name, f in pairs(fns.direct) do req[name] = f end
`;

export function installReq(ctx: RequestInstall): void {
  const { vm, ngx } = ctx;
  const fns = vm.newTable();
  const direct = vm.newTable();
  vm.setField(fns, 'direct', direct);

  ctx.fn(fns, 'raw_header', (call) => {
    const r = ctx.request(call);
    const noLine = call.boolean(1);
    call.pushBytes(Buffer.from(guard(call, () => r.req.rawHeader(noLine)), 'latin1'));
    return 1;
  });
  ctx.fn(fns, 'get_headers', (call) => {
    const r = ctx.request(call);
    const max = call.number(1) ?? 100;
    const raw = call.boolean(2);
    const headers = guard(call, () => r.req.getHeaders(max, raw));
    pushTruncated(call, headers, max, () => r.req.getHeaders(0, raw), headerLines);
    return 1 + pushPairs(call, headers);
  });
  ctx.fn(fns, 'get_uri_args', (call) => {
    const r = ctx.request(call);
    guard(call, () => checkRequestApi(r, 'ngx.req.get_uri_args'));
    return pushArgs(call, parseArgs((r.var.args as string | undefined) ?? '', call.number(1) ?? 100, 'entries'));
  });
  ctx.fn(fns, 'post_args_ok', (call) => {
    const r = ctx.request(call);
    return okOrMessage(call, () => r.req.getPostArgs(0));
  });
  ctx.fn(fns, 'get_post_args', (call) => {
    const r = ctx.request(call);
    const file = r.req.getBodyFile();
    if (file !== undefined) {
      call.pushNil();
      call.pushString('request body in temp file not supported');
      return 2;
    }
    return pushArgs(call, parseArgs(r.req.getBodyBuffer() ?? '', call.number(1) ?? 100, 'entries'));
  });
  ctx.fn(fns, 'set_uri_args', (call) => {
    const r = ctx.request(call);
    const n = call.checkNumber(1);
    if (n === -1) {
      const s = call.string(2) ?? '';
      guard(call, () => r.req.setUriArgs(s));
      return 0;
    }
    const pairs: [Uint8Array, Uint8Array | boolean][] = [];
    for (let i = 0; i < n; i += 2) {
      const value = call.value(i + 3);
      pairs.push([call.bytes(i + 2) ?? EMPTY, typeof value === 'boolean' ? value : typeof value === 'number' ? Buffer.from(formatNumber(value)) : (call.bytes(i + 3) ?? EMPTY)]);
    }
    const query = asText(encodeArgPairs(pairs));
    guard(call, () => r.req.setUriArgs(query));
    return 0;
  });
  ctx.fn(fns, 'set_header', (call) => {
    const r = ctx.request(call);
    const name = call.checkString(1);
    const n = call.checkNumber(2);
    const value = n === -1 ? undefined : n === 1 ? (call.string(3) ?? '') : Array.from({ length: n }, (_, i) => call.string(i + 3) ?? '');
    guard(call, () => r.req.setHeader(name, value));
    return 0;
  });

  const d = (name: string, f: (call: LuaCall) => number) => ctx.fn(direct, name, f);
  d('get_method', (call) => {
    const r = ctx.request(call);
    call.pushString(guard(call, () => r.req.getMethod()));
    return 1;
  });
  d('set_method', (call) => {
    const r = ctx.request(call);
    const m = call.value(1);
    if (typeof m !== 'number') return call.raiseError('bad method number');
    guard(call, () => r.req.setMethod(m));
    return 0;
  });
  d('set_uri', (call) => {
    const r = ctx.request(call);
    const uri = call.checkString(1);
    const jump = call.boolean(2);
    guard(call, () => r.req.setUri(uri, jump));
    return 0;
  });
  d('read_body', (call) => {
    const r = ctx.request(call);
    return call.yield(guard(call, () => r.req.readBody()));
  });
  d('discard_body', (call) => {
    const r = ctx.request(call);
    guard(call, () => r.req.discardBody());
    return 0;
  });
  d('set_body_data', (call) => {
    const r = ctx.request(call);
    const data = call.checkBytes(1);
    guard(call, () => r.req.setBodyData(data));
    return 0;
  });
  d('init_body', (call) => {
    const r = ctx.request(call);
    guard(call, () => r.req.initBody());
    return 0;
  });
  d('append_body', (call) => {
    const r = ctx.request(call);
    const data = call.checkBytes(1);
    guard(call, () => r.req.appendBody(data));
    return 0;
  });
  d('finish_body', (call) => {
    const r = ctx.request(call);
    guard(call, () => r.req.finishBody());
    return 0;
  });
  d('get_body_data', (call) => {
    const r = ctx.request(call);
    call.pushValue(guard(call, () => r.req.getBodyBuffer()) ?? null);
    return 1;
  });
  d('get_body_file', (call) => {
    const r = ctx.request(call);
    call.pushValue(guard(call, () => r.req.getBodyFile()) ?? null);
    return 1;
  });
  d('http_version', (call) => {
    call.pushNumber(ctx.request(call).req.httpVersion());
    return 1;
  });
  d('start_time', (call) => {
    call.pushNumber(ctx.request(call).req.startTime());
    return 1;
  });
  d('is_internal', (call) => {
    call.pushBoolean(ctx.request(call).req.isInternal());
    return 1;
  });

  vm.run(REQ_LUA, 'ngx.req', ngx, ctx.pairsToTable, fns);
}

/** Request headers count by lines: a repeated name counts once per value. */
function headerLines(h: Readonly<Record<string, string | readonly string[]>>): number {
  let n = 0;
  for (const k in h) {
    const v = h[k];
    n += Array.isArray(v) ? v.length : 1;
  }
  return n;
}
