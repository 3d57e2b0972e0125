// Test support for the ngx/module tests (not built, not exported): a VM with some ngx modules
// installed, and the Lua renderer nginx's answers were recorded with.
import { systemClock, type Clock } from '@phasekit/core';
import { LuaVm } from '../vm/index.js';
import { createInstall, type NgxInstall } from './install.js';

/** Lua source of `dump(v)`: strings quoted, tables as `{k=v,...}` with sorted keys (numbers first). */
export const LUA_DUMP = String.raw`
local function dump(t)
  if type(t) ~= "table" then return type(t) == "string" and string.format("%q", t) or tostring(t) end
  local keys = {} for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) if type(a) == type(b) then return a < b end return type(a) == "number" end)
  local o = {} for _, k in ipairs(keys) do o[#o + 1] = tostring(k) .. "=" .. dump(t[k]) end
  return "{" .. table.concat(o, ",") .. "}"
end
`;

/** A fresh VM with the given modules installed on one install context. */
export async function createNgxVm(installs: ((ctx: NgxInstall) => void)[], clock: Clock = systemClock): Promise<{ vm: LuaVm; ctx: NgxInstall }> {
  const vm = await LuaVm.create();
  const ctx = createInstall(vm, clock);
  for (const install of installs) install(ctx);
  return { vm, ctx };
}
