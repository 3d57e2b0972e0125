// ngx.status, ngx.ctx, ngx.arg, ngx.get_phase, ngx.is_subrequest, ngx.headers_sent: the request's fields.

import { checkRequestApi, type HeaderValue } from '@phasekit/core';
import type { LuaRef } from '../vm/index.js';
import { guard, okOrMessage, type RequestInstall } from './request.js';

// ngx.status and ngx.ctx are fields of the ngx table itself, so they go through its metatable.
const FIELDS_LUA = String.raw`
local ngx, get_status, set_status, get_ctx, set_ctx, get_arg, set_arg, headers_sent, is_subrequest, render_chunk, ctxs = ...
local rawget, error = rawget, error
setmetatable(ngx, {
  __index = function(_, k)
    if k == "status" then return get_status()
    elseif k == "ctx" then
      -- the request's table lives in ctxs under its key; a new one is due on first use and after exec
      local key, new, shared = get_ctx()
      if new then ctxs[key] = shared or {} end
      return ctxs[key]
    elseif k == "headers_sent" then return headers_sent()
    elseif k == "is_subrequest" then return is_subrequest()
    end
    return nil
  end,
  __newindex = function(t, k, v)
    if k == "status" then
      local ok, err = set_status(v)
      if not ok then error(err, 2) end
    elseif k == "ctx" then
      if type(v) ~= "table" then error("ctx should be a table while getting a " .. type(v) .. " value", 2) end
      ctxs[set_ctx()] = v
    else
      rawset(t, k, v)
    end
  end,
})
ngx.arg = setmetatable({}, {
  __index = function(_, i) return get_arg(i) end,
  __newindex = function(_, i, v)
    -- ngx.arg[1] takes what ngx.print takes (a nested array is flattened); nil drops the chunk
    if i == 1 and v ~= nil and type(v) ~= "string" then
      local t = type(v)
      if t == "table" or t == "number" then v = render_chunk(v)
      else error("bad chunk data type: " .. t, 2) end
    end
    set_arg(i, v)
  end,
})
`;

export function installFields(ctx: RequestInstall, renderChunk: LuaRef): void {
  const { vm, ngx } = ctx;
  const getStatus = vm.createFunction((call) => {
    const r = ctx.request(call);
    call.pushNumber(guard(call, () => r.status));
    return 1;
  }, 'ngx.status');
  const setStatus = vm.createFunction((call) => {
    const r = ctx.request(call);
    const v = Number(call.value(1));
    return okOrMessage(call, () => {
      r.status = Number.isInteger(v) ? v : Math.trunc(v);
    });
  }, 'ngx.status=');
  const getCtx = vm.createFunction((call) => ctx.ctxTable(call, ctx.request(call)), 'ngx.ctx');
  const setCtx = vm.createFunction((call) => {
    ctx.setCtxTable(call, ctx.request(call));
    return 1;
  }, 'ngx.ctx=');
  const getArg = vm.createFunction((call) => {
    const r = ctx.request(call);
    const i = call.number(1);
    const arg = guard(call, () => r.arg) as unknown;
    if (Array.isArray(arg)) {
      call.pushValue(i === undefined ? null : (arg[i - 1] as string | undefined));
    } else {
      const a = arg as { chunk: HeaderValue | Uint8Array; eof: boolean };
      if (i === 1) call.pushValue(a.chunk as string | Uint8Array);
      else if (i === 2) call.pushBoolean(a.eof);
      else call.pushNil();
    }
    return 1;
  }, 'ngx.arg');
  const setArg = vm.createFunction((call) => {
    const r = ctx.request(call);
    checkSetArg(call, r);
    const a = r.arg;
    const i = call.number(1);
    if (i === 1) {
      const v = call.value(2);
      a.chunk = v === null || v === undefined ? '' : typeof v === 'string' || v instanceof Uint8Array ? v : String(v);
    } else if (i === 2) {
      a.eof = call.boolean(2);
    }
    return 0;
  }, 'ngx.arg=');
  const headersSent = vm.createFunction((call) => {
    call.pushBoolean(ctx.request(call).headersSent);
    return 1;
  }, 'ngx.headers_sent');
  const isSubrequest = vm.createFunction((call) => {
    call.pushBoolean(ctx.request(call).isSubrequest);
    return 1;
  }, 'ngx.is_subrequest');
  vm.run(FIELDS_LUA, 'ngx.fields', ngx, getStatus, setStatus, getCtx, setCtx, getArg, setArg, headersSent, isSubrequest, renderChunk, ctx.ctxStore);
  renderChunk.release();

  ctx.fn(ngx, 'get_phase', (call) => {
    const r = ctx.maybeRequest();
    // No request and no timer: code running while the engine loads (luaLoad files, module bodies).
    call.pushString(r === undefined ? 'init' : r.getPhase());
    return 1;
  });
}

function checkSetArg(call: Parameters<typeof guard>[0], r: Parameters<typeof checkRequestApi>[0]): void {
  guard(call, () => checkRequestApi(r, 'ngx.arg='));
}
