// ngx.shared.DICT: OpenResty's shared-dict methods over the engine's dicts. A dict whose calls
// wait (Redis) yields the handler's coroutine until the answer comes; where Lua cannot yield
// (set, header_filter, body_filter, log, balancer, init, init_worker) it is refused.

import { BadArgumentError, isAsyncStore, PHASE_FACTS, PHASE_NGX_NAME, waitingDictMessage, type AnySharedDict, type Phase, type SharedDictKey, type SharedDictValue, type SharedDictStore } from '@phasekit/core';
import { LuaOpaque, LuaRef, type LuaCall, type LuaValue } from '../vm/index.js';
import type { RequestInstall } from './request.js';

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
function DICT.get_keys(self, max)
  local keys = { get_keys(self, max) }
  -- A store that failed (a Redis one) answers false, err.
  if keys[1] == false then return nil, keys[2] end
  return keys
end
local mt = { __index = DICT }
local shared = {}
for i = 1, #names do shared[names[i]] = setmetatable({ i }, mt) end
ngx.shared = shared
`;

/** A method: the store call (a value, or a promise for a waiting store) and how its result becomes Lua values. */
interface Method {
  call(dict: SharedDictStore, call: LuaCall): unknown;
  lua?(result: never): unknown;
}

/** Lua value → what a dict accepts; tables and functions become a value it refuses ("bad value type"). */
function arg(call: LuaCall, i: number): SharedDictValue | null | undefined {
  const v: LuaValue = call.value(i);
  if (v instanceof LuaOpaque || v instanceof LuaRef || typeof v === 'bigint') return {} as unknown as SharedDictValue;
  return v;
}

const key = (call: LuaCall) => arg(call, 2) as SharedDictKey;
const num = (call: LuaCall, i: number) => (call.isNil(i) ? undefined : Number(call.value(i)));

const METHODS: Record<string, Method> = {
  get: {
    call: (d, c) => d.getWithFlags(key(c)),
    lua: ([v, flags]: readonly unknown[]) => (flags === 0 || flags === undefined ? [v] : [v, flags]),
  },
  get_stale: { call: (d, c) => d.getStale(key(c)) },
  set: { call: (d, c) => d.set(key(c), arg(c, 3), num(c, 4), num(c, 5)) },
  safe_set: { call: (d, c) => d.safeSet(key(c), arg(c, 3), num(c, 4), num(c, 5)) },
  add: { call: (d, c) => d.add(key(c), arg(c, 3) as SharedDictValue, num(c, 4), num(c, 5)) },
  safe_add: { call: (d, c) => d.safeAdd(key(c), arg(c, 3) as SharedDictValue, num(c, 4), num(c, 5)) },
  replace: { call: (d, c) => d.replace(key(c), arg(c, 3) as SharedDictValue, num(c, 4), num(c, 5)) },
  delete: { call: (d, c) => d.delete(key(c)) },
  incr: {
    call: (d, c) => {
      const initType = c.type(4);
      // lua-resty-core: init must be a number (a numeric string too is refused)
      if (initType !== 'nil' && initType !== 'none' && initType !== 'number') throw new BadArgumentError(`bad init arg: number expected, got ${initType}`);
      return d.incr(key(c), Number(c.value(3)), num(c, 4), num(c, 5));
    },
  },
  lpush: { call: (d, c) => d.lpush(key(c), arg(c, 3) as string) },
  rpush: { call: (d, c) => d.rpush(key(c), arg(c, 3) as string) },
  lpop: { call: (d, c) => d.lpop(key(c)) },
  rpop: { call: (d, c) => d.rpop(key(c)) },
  llen: { call: (d, c) => d.llen(key(c)) },
  ttl: { call: (d, c) => d.ttl(key(c)) },
  expire: { call: (d, c) => d.expire(key(c), Number(c.value(3))) },
  flush_all: { call: (d) => d.flushAll() },
  flush_expired: { call: (d, c) => d.flushExpired(num(c, 2) ?? 0) },
  get_keys: { call: (d, c) => d.getKeys(num(c, 2) ?? 1024) },
  capacity: { call: (d) => d.capacity() },
  free_space: { call: (d) => d.freeSpace() },
};

/** A waiting store's call that failed where OpenResty's results have no error slot (flush_all, get_keys...). */
class Failure {
  constructor(readonly message: string) {}
}

/** Pushes a method's result: nothing, one value, or a tuple without its trailing nils. */
function push(call: LuaCall, result: unknown): number {
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
}

const PHASE_OF_NGX_NAME = new Map(Object.entries(PHASE_NGX_NAME).map(([phase, ngxName]) => [ngxName, phase as Phase]));

export function installShared(ctx: RequestInstall, dicts: Readonly<Record<string, AnySharedDict>>): void {
  const { vm, ngx } = ctx;
  const list = Object.values(dicts);
  const names = vm.newTable();
  list.forEach((d, i) => vm.run('local t, i, n = ... t[i] = n', 'ngx.shared.names', names, i + 1, d.name));
  const js = vm.newTable();
  for (const [name, method] of Object.entries(METHODS)) {
    const shape = method.lua ?? ((r: unknown) => r);
    ctx.fn(js, name, (call) => {
      const dict = list[(call.number(1) ?? 0) - 1] as AnySharedDict;
      const waits = isAsyncStore(dict);
      if (waits) {
        const phase = PHASE_OF_NGX_NAME.get(ctx.maybeRequest()?.getPhase() ?? 'timer') ?? 'timer';
        if (!PHASE_FACTS[phase].yields) return call.raiseError(waitingDictMessage(dict.name, phase, 'lua'), 2);
      }
      let result: unknown;
      try {
        result = method.call(dict as SharedDictStore, call);
      } catch (err) {
        // Misuse (a negative exptime, a bad init) raises, as lua-resty-core does.
        return call.raiseError((err as Error).message, 2);
      }
      if (!waits) return push(call, shape(result as never));
      const settled = (result as Promise<unknown>).then(undefined, (err: unknown) => new Failure((err as Error).message));
      return call.yield(settled, (c, value) => {
        if (!(value instanceof Failure)) return push(c, shape(value as never));
        c.pushValue(name === 'get_keys' ? false : null);
        c.pushString(value.message);
        return 2;
      });
    });
  }
  vm.run(SHARED_LUA, 'ngx.shared', ngx, names, js);
}
