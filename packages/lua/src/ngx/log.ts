// ngx.log and print, the ngx.* constants, ngx.worker.* and ngx.config.*.

import { LOG_LEVEL_NAMES, NGX_CONSTANTS, type LogLevel, type WorkerInfo } from '@phasekit/core';
import type { RequestInstall } from './request.js';

/** The version phasekit reports as ngx.config.ngx_lua_version (lua-nginx-module's numbering). */
export const NGX_LUA_VERSION = 10023;

const LOG_LUA = String.raw`
local ngx, js_log, sandbox = ...
local type, tostring, select, getmetatable, error = type, tostring, select, getmetatable, error
local concat, fmt, mtype, getinfo = table.concat, string.format, math.type, debug.getinfo
local NULL = ngx.null
local function render(fname, ...)
  local n = select("#", ...)
  local buf = {}
  for i = 1, n do
    local v = select(i, ...)
    local t = type(v)
    if t == "string" then buf[i] = v
    elseif t == "number" then buf[i] = mtype(v) == "float" and fmt("%.14g", v) or tostring(v)
    elseif t == "nil" then buf[i] = "nil"
    elseif t == "boolean" then buf[i] = v and "true" or "false"
    elseif v == NULL then buf[i] = "null"
    elseif t == "table" and getmetatable(v) and getmetatable(v).__tostring then buf[i] = tostring(v)
    -- numbered from the first message argument and named as the caller sees the function ('?'
    -- through pcall), as lua-nginx-module's luaL_argerror does after it drops the level
    else error("bad argument #" .. i .. " to '" .. (getinfo(2, "n").name or "?") .. "' (expected table to have __tostring metamethod)", 3) end
  end
  return concat(buf, "", 1, n)
end
-- "[lua] source:line: " and, inside a named function, "name(): " as lua-nginx-module writes it.
local function where()
  local info = getinfo(3, "Sln")
  if not info or info.currentline < 0 then return "[lua] " end
  local name = info.name
  -- Lua 5.4 names a metamethod without its "__" (LuaJIT keeps it).
  if name and info.namewhat == "metamethod" then name = "__" .. name end
  if name then return "[lua] " .. info.short_src .. ":" .. info.currentline .. ": " .. name .. "(): " end
  return "[lua] " .. info.short_src .. ":" .. info.currentline .. ": "
end
function ngx.log(level, ...)
  if type(level) ~= "number" then error("bad argument #1 to 'log' (number expected, got " .. type(level) .. ")", 2) end
  if level < 0 or level > 8 then error("bad argument #1 to '" .. (getinfo(1, "n").name or "?") .. "' (bad log level: " .. fmt(mtype(level) == "float" and "%.14g" or "%d", level) .. ")", 2) end
  js_log(level, where() .. render("log", ...))
end
sandbox.print = function(...)
  js_log(ngx.NOTICE, where() .. render("print", ...))
end
`;

export function installLog(ctx: RequestInstall, worker: WorkerInfo, logOutsideRequest: (level: LogLevel, message: string) => void): void {
  const { vm, ngx } = ctx;
  for (const [name, value] of Object.entries(NGX_CONSTANTS)) vm.setField(ngx, name, value);
  const log = vm.createFunction((call) => {
    const level = LOG_LEVEL_NAMES[call.checkNumber(1)] ?? 'error';
    const message = call.string(2) ?? '';
    const r = ctx.maybeRequest();
    if (r === undefined) logOutsideRequest(level, message);
    else r.log(call.checkNumber(1), message);
    return 0;
  }, 'ngx.log');
  vm.run(LOG_LUA, 'ngx.log', ngx, log, vm.sandbox);

  vm.run(
    String.raw`
    local ngx, id, count, pid, version, prefix, exiting, js_pids = ...
    ngx.worker = {
      id = function() return id end,
      count = function() return count end,
      pid = function() return pid end,
      pids = function()
        local phase = ngx.get_phase()
        if phase == "init" or phase == "init_worker" then return nil, "API disabled in the current context" end
        return { js_pids() }
      end,
      exiting = exiting,
    }
    ngx.config = {
      subsystem = "http",
      debug = false,
      ngx_lua_version = version,
      nginx_version = 1022001,
      prefix = function() return prefix end,
      -- the configure options libraries look for (--with-pcre-jit: ngx.re's "j" option is welcome)
      nginx_configure = function() return " --with-pcre-jit --with-http_ssl_module --with-http_stub_status_module --with-http_realip_module --with-threads" end,
    }`,
    'ngx.worker',
    ngx,
    worker.id,
    worker.count,
    worker.pid,
    NGX_LUA_VERSION,
    ctx.prefix,
    vm.createFunction((call) => {
      call.pushBoolean(ctx.maybeRequest()?.worker.exiting() ?? false);
      return 1;
    }, 'ngx.worker.exiting'),
    vm.createFunction((call) => {
      const pids = worker.pids();
      for (const pid of pids) call.pushNumber(pid);
      return pids.length;
    }, 'ngx.worker.pids'),
  );
}
