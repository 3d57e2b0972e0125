// ngx.say / print / flush / eof / send_headers / exit / exec / redirect / sleep: output and flow control.

import { checkRequestApi, EXIT_UNWINDS_PHASES, phaseBitOf, type Chunk } from '@phasekit/core';
import type { LuaCall, LuaRef } from '../vm/index.js';
import { EXIT_SIGNAL, guard, okOrMessage, type RequestInstall } from './request.js';

// Values are flattened and formatted in Lua (numbers as LuaJIT prints them), so each call
// crosses into JS once with one string.
const OUTPUT_LUA = String.raw`
local ngx, js_out = ...
local type, tostring, select, pairs, error = type, tostring, select, pairs, error
local concat, fmt, mtype = table.concat, string.format, math.type
local NULL = ngx.null
local function add(buf, n, v, fname, argn)
  local t = type(v)
  if t == "string" then n = n + 1; buf[n] = v
  elseif t == "number" then
    n = n + 1
    if mtype(v) == "float" then buf[n] = fmt("%.14g", v) else buf[n] = tostring(v) end
  elseif t == "nil" then n = n + 1; buf[n] = "nil"
  elseif t == "boolean" then n = n + 1; buf[n] = v and "true" or "false"
  elseif v == NULL then n = n + 1; buf[n] = "null"
  elseif t == "table" then
    local len = #v
    for k in pairs(v) do
      if mtype(k) ~= "integer" or k < 1 or k > len then
        error("bad argument #" .. argn .. " to '" .. fname .. "' (non-array table found)", 4)
      end
    end
    for i = 1, len do n = add(buf, n, v[i], fname, argn) end
  else
    error("bad argument #" .. argn .. " to '" .. fname .. "' (string, number, boolean, nil, ngx.null, or array table expected, but got " .. t .. ")", 4)
  end
  return n
end
local function render(fname, nl, ...)
  local count = select("#", ...)
  if count == 1 then
    -- the common case, one string: no buffer table
    local v = ...
    if type(v) == "string" then
      if nl then return v .. "\n" end
      return v
    end
  end
  local buf, n = {}, 0
  for i = 1, count do n = add(buf, n, (select(i, ...)), fname, i) end
  if nl then n = n + 1; buf[n] = "\n" end
  return concat(buf, "", 1, n)
end
-- js_out: 1, or nil + "seen eof" once the body has ended, or false + an error to raise here.
function ngx.say(...)
  local ok, err = js_out(render("say", true, ...))
  if ok == false then error(err, 2) end
  if ok == nil then return nil, err end
  return 1
end
function ngx.print(...)
  local ok, err = js_out(render("print", false, ...))
  if ok == false then error(err, 2) end
  if ok == nil then return nil, err end
  return 1
end
-- body_filter's ngx.arg[1] takes what ngx.print takes
return function(v) return render("print", false, v) end
`;

/** Installs the output functions; returns Lua's renderer of what ngx.print takes (for ngx.arg[1]). */
export function installOutput(ctx: RequestInstall): LuaRef {
  const { vm, ngx } = ctx;
  // Returns true, or false + message so the Lua wrapper raises at the user's line.
  const out = vm.createFunction((call) => {
    const r = ctx.request(call);
    let accepted = true;
    const n = okOrMessage(call, () => {
      accepted = r.print(call.value(1) as Chunk);
    });
    return n === 1 && !accepted ? seenEof(call) : n;
  }, 'ngx.print');
  const [renderChunk] = vm.run(OUTPUT_LUA, 'ngx.output', ngx, out);

  const unwind = (call: Parameters<Parameters<typeof ctx.fn>[2]>[0]) => call.yield(EXIT_SIGNAL);
  ctx.fn(ngx, 'exit', (call) => {
    const r = ctx.request(call);
    const status = call.type(1) === 'number' ? call.number(1) : undefined;
    if (status === undefined || !Number.isInteger(status)) {
      return call.raiseError(`bad argument #1 to 'exit' (number expected, got ${call.type(1)})`);
    }
    guard(call, () => r.exit(status));
    // In header_filter and balancer ngx.exit returns and the code after it runs (as OpenResty does).
    return (phaseBitOf(r) & EXIT_UNWINDS_PHASES) === 0 ? 0 : unwind(call);
  });
  ctx.fn(ngx, 'exec', (call) => {
    const r = ctx.request(call);
    const uri = call.value(1);
    if (typeof uri !== 'string') return call.raiseError(`bad argument #1 to 'exec' (string expected, got ${call.type(1)})`);
    const args = execArgs(call, ctx);
    guard(call, () => r.exec(uri, args));
    return unwind(call);
  });
  ctx.fn(ngx, 'redirect', (call) => {
    const r = ctx.request(call);
    if (call.argCount < 1 || call.argCount > 2) return call.raiseError('expecting one or two arguments');
    const url = call.value(1);
    const status = call.isNil(2) ? 302 : Number(call.value(2));
    guard(call, () => r.redirect(typeof url === 'string' ? url : String(url ?? ''), status));
    return unwind(call);
  });
  ctx.fn(ngx, 'flush', (call) => {
    const r = ctx.request(call);
    const wait = call.boolean(1);
    guard(call, () => checkRequestApi(r, 'ngx.flush'));
    // No output yet: nginx sends nothing (the status may still change).
    if (!r.headersSent) {
      call.pushNil();
      call.pushString('nothing to flush');
      return 2;
    }
    const drained = guard(call, () => r.flush(wait));
    // flush(true) waits until the client has taken the data (backpressure); flush() does not.
    if (wait) return call.yield(drained, (c) => (c.pushNumber(1), 1));
    call.pushNumber(1);
    return 1;
  });
  ctx.fn(ngx, 'eof', (call) => {
    const r = ctx.request(call);
    if (!guard(call, () => r.eof())) return seenEof(call);
    call.pushNumber(1);
    return 1;
  });
  ctx.fn(ngx, 'send_headers', (call) => {
    const r = ctx.request(call);
    guard(call, () => r.sendHeaders());
    call.pushNumber(1);
    return 1;
  });
  ctx.fn(ngx, 'sleep', (call) => {
    const r = ctx.request(call);
    guard(call, () => checkRequestApi(r, 'ngx.sleep'));
    const seconds = call.checkNumber(1);
    // nginx names the duration in milliseconds
    if (seconds < 0) return call.raiseError(`invalid sleep duration "${Math.trunc(seconds * 1000)}"`);
    return call.yield(sleep(ctx, seconds));
  });
  return renderChunk as LuaRef;
}

/** ngx.exec's args: nothing, a string, a number, or a table encoded as ngx.encode_args does. */
function execArgs(call: LuaCall, ctx: RequestInstall): string | undefined {
  switch (call.type(2)) {
    case 'nil':
    case 'none':
      return undefined;
    case 'string':
      return call.string(2);
    case 'number':
      return String(call.value(2));
    case 'table': {
      const encode = ctx.vm.getField(ctx.ngx, 'encode_args') as LuaRef;
      try {
        const r = ctx.vm.call(encode, { args: [call.ref(2) ?? null] });
        if (r.status === 'error') return call.raiseError(r.message);
        return String(r.values[0] ?? '');
      } finally {
        encode.release();
      }
    }
    default:
      return call.raiseError(`bad argument #2 to 'exec' (string, number or table expected, got ${call.type(2)})`);
  }
}

function seenEof(call: LuaCall): number {
  call.pushNil();
  call.pushString('seen eof');
  return 2;
}

function sleep(ctx: RequestInstall, seconds: number): Promise<void> {
  if (seconds === 0) return new Promise((resolve) => setImmediate(resolve));
  return new Promise((resolve) => ctx.clock.schedule(resolve, seconds * 1000));
}
