// ngx.shared.DICT: OpenResty's shared-dict methods over the engine's SharedDict objects.

import { BadArgumentError } from '@phasekit/core';
import type { SharedDict, SharedDictKey, SharedDictValue } from '@phasekit/core';
import { LuaOpaque, LuaRef, type LuaCall, type LuaValue } from '../vm/index.js';
import type { NgxInstall } from './install.js';

const SHARED_LUA = String.raw`
local ngx, names, js = ...
local type, rawget, error, select = type, rawget, error, select
local DICT = {}
for name, f in pairs(js) do
  DICT[name] = function(self, ...)
    if type(self) ~= "table" or rawget(self, 1) == nil then error('bad "zone" argument', 2) end
    return f(rawget(self, 1), ...)
  end
end
local get_keys = DICT.get_keys
function DICT.get_keys(self, max) return { get_keys(self, max) } end
local mt = { __index = DICT }
local shared = {}
for i = 1, #names do shared[names[i]] = setmetatable({ i }, mt) end
ngx.shared = shared
`;

type Method = (dict: SharedDict, call: LuaCall) => readonly unknown[] | unknown;

/** Lua value → what SharedDict accepts; tables and functions become a value it refuses ("bad value type"). */
function arg(call: LuaCall, i: number): SharedDictValue | null | undefined {
  const v: LuaValue = call.value(i);
  if (v instanceof LuaOpaque || v instanceof LuaRef || typeof v === 'bigint') return {} as unknown as SharedDictValue;
  return v;
}

const key = (call: LuaCall) => arg(call, 2) as SharedDictKey;
const num = (call: LuaCall, i: number) => (call.isNil(i) ? undefined : Number(call.value(i)));

const METHODS: Record<string, Method> = {
  get: (d, c) => {
    const [v, flags] = d.getWithFlags(key(c));
    return flags === 0 || flags === undefined ? [v] : [v, flags];
  },
  get_stale: (d, c) => d.getStale(key(c)),
  set: (d, c) => d.set(key(c), arg(c, 3), num(c, 4), num(c, 5)),
  safe_set: (d, c) => d.safeSet(key(c), arg(c, 3), num(c, 4), num(c, 5)),
  add: (d, c) => d.add(key(c), arg(c, 3) as SharedDictValue, num(c, 4), num(c, 5)),
  safe_add: (d, c) => d.safeAdd(key(c), arg(c, 3) as SharedDictValue, num(c, 4), num(c, 5)),
  replace: (d, c) => d.replace(key(c), arg(c, 3) as SharedDictValue, num(c, 4), num(c, 5)),
  delete: (d, c) => d.delete(key(c)),
  incr: (d, c) => {
    const initType = c.type(4);
    // lua-resty-core: init must be a number (a numeric string too is refused)
    if (initType !== 'nil' && initType !== 'none' && initType !== 'number') throw new BadArgumentError(`bad init arg: number expected, got ${initType}`);
    return d.incr(key(c), Number(c.value(3)), num(c, 4), num(c, 5));
  },
  lpush: (d, c) => d.lpush(key(c), arg(c, 3) as string),
  rpush: (d, c) => d.rpush(key(c), arg(c, 3) as string),
  lpop: (d, c) => d.lpop(key(c)),
  rpop: (d, c) => d.rpop(key(c)),
  llen: (d, c) => d.llen(key(c)),
  ttl: (d, c) => d.ttl(key(c)),
  expire: (d, c) => d.expire(key(c), Number(c.value(3))),
  flush_all: (d) => d.flushAll(),
  flush_expired: (d, c) => d.flushExpired(num(c, 2) ?? 0),
  get_keys: (d, c) => d.getKeys(num(c, 2) ?? 1024),
  capacity: (d) => d.capacity(),
  free_space: (d) => d.freeSpace(),
};

export function installShared(ctx: NgxInstall, dicts: Readonly<Record<string, SharedDict>>): void {
  const { vm, ngx } = ctx;
  const list = Object.values(dicts);
  const names = vm.newTable();
  list.forEach((d, i) => vm.run('local t, i, n = ... t[i] = n', 'ngx.shared.names', names, i + 1, d.name));
  const js = vm.newTable();
  for (const [name, method] of Object.entries(METHODS)) {
    ctx.fn(js, name, (call) => {
      const dict = list[(call.number(1) ?? 0) - 1] as SharedDict;
      let result: unknown;
      try {
        result = method(dict, call);
      } catch (err) {
        // Misuse (a negative exptime, a bad init) raises, as lua-resty-core does.
        return call.raiseError((err as Error).message, 2);
      }
      if (result === undefined) return 0;
      if (!Array.isArray(result)) {
        call.pushValue(result as LuaValue);
        return 1;
      }
      // Trailing nils are not returned (`nil, "not found"`, not `nil, "not found", nil`).
      let n = result.length;
      while (n > 1 && result[n - 1] === undefined) n--;
      for (let i = 0; i < n; i++) call.pushValue(result[i] as LuaValue);
      return n;
    });
  }
  vm.run(SHARED_LUA, 'ngx.shared', ngx, names, js);
}
