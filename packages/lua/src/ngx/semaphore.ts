// require "ngx.semaphore": counting semaphores shared by every request and timer of the VM
// (lua-resty-core's API: new, post, wait(timeout), count).

import { apiAllowed, disabledMessage, phaseOfBit, phaseBitOf, type Ngx } from '@phasekit/core';
import type { LuaCall } from '../vm/index.js';
import type { RequestInstall } from './request.js';

const SEMAPHORE_LUA = String.raw`
local new_js, post_js, wait_js, count_js, release_js = ...
local type, tonumber, error, setmetatable = type, tonumber, error, setmetatable
local dead = {}
local _M = { version = "0.1.28" }
local mt = { __index = _M, __gc = function(self) dead[#dead + 1] = self[1] end }
local function reap()
  local d = dead
  if d[1] == nil then return end
  dead = {}
  release_js(table.unpack(d))
end
local function id_of(self)
  if type(self) ~= "table" or type(self[1]) ~= "number" then error("not a semaphore instance", 3) end
  return self[1]
end
function _M.new(n)
  reap()
  n = tonumber(n) or 0
  if n < 0 then error("no negative number", 2) end
  return setmetatable({ new_js(n) }, mt)
end
function _M.post(self, n)
  local id = id_of(self)
  n = tonumber(n) or 1
  if n < 1 then error("positive number required", 2) end
  post_js(id, n)
  return true
end
function _M.wait(self, seconds)
  local id = id_of(self)
  if type(seconds) ~= "number" then
    error("bad argument #2 to 'wait' (number expected, got " .. type(seconds) .. ")", 2)
  end
  if seconds < 0 then error("no negative number", 2) end
  return wait_js(id, seconds)
end
function _M.count(self)
  return count_js(id_of(self))
end
return function() return _M end
`;

interface Waiter {
  wake(ok: boolean): void;
}

class Semaphore {
  resources: number;
  readonly waiters: Waiter[] = [];
  constructor(n: number) {
    this.resources = n;
  }
}

export function installSemaphore(ctx: RequestInstall): void {
  const { vm } = ctx;
  const sems = new Map<number, Semaphore>();
  let seq = 0;
  const get = (call: LuaCall) => sems.get(call.number(1) ?? -1) ?? call.raiseError('not a semaphore instance', 0);
  const newFn = vm.createFunction((call) => {
    const id = ++seq;
    sems.set(id, new Semaphore(Math.floor(call.number(1) ?? 0)));
    call.pushNumber(id);
    return 1;
  }, 'new');
  const post = vm.createFunction((call) => {
    const sem = get(call);
    sem.resources += Math.floor(call.number(2) ?? 1);
    // Waiters wake on a later turn (as nginx posts their events), in the order they came.
    while (sem.resources > 0 && sem.waiters.length > 0) {
      sem.resources--;
      (sem.waiters.shift() as Waiter).wake(true);
    }
    return 0;
  }, 'post');
  const wait = vm.createFunction((call) => {
    const sem = get(call);
    const seconds = call.number(2) ?? 0;
    const r = ctx.request(call);
    if (!apiAllowedHere(r)) {
      call.pushNil();
      call.pushString(disabledMessage('ngx.semaphore.wait', phaseOfBit(phaseBitOf(r))));
      return 2;
    }
    if (sem.resources > 0 && sem.waiters.length === 0) {
      sem.resources--;
      call.pushBoolean(true);
      return 1;
    }
    if (seconds === 0) {
      call.pushNil();
      call.pushString('timeout');
      return 2;
    }
    let cancelTimer: (() => void) | undefined;
    const waiter: Waiter = { wake: () => undefined };
    const p: Promise<boolean> & { cancel?: () => void } = new Promise<boolean>((resolve) => {
      waiter.wake = (ok) => {
        cancelTimer?.();
        resolve(ok);
      };
    });
    const remove = () => {
      const i = sem.waiters.indexOf(waiter);
      if (i !== -1) sem.waiters.splice(i, 1);
    };
    const ms = seconds * 1000;
    if (ms <= 2_147_483_647) {
      cancelTimer = ctx.clock.schedule(() => {
        remove();
        waiter.wake(false);
      }, ms);
    }
    sem.waiters.push(waiter);
    p.cancel = () => {
      cancelTimer?.();
      remove();
    };
    return call.yield(p, (c, ok) => {
      if (ok === true) {
        c.pushBoolean(true);
        c.pushNil();
      } else {
        c.pushBoolean(false);
        c.pushString('timeout');
      }
      return 2;
    });
  }, 'wait');
  const count = vm.createFunction((call) => {
    const sem = get(call);
    call.pushNumber(sem.resources - sem.waiters.length);
    return 1;
  }, 'count');
  const release = vm.createFunction((call) => {
    for (let i = 1; i <= call.argCount; i++) sems.delete(call.number(i) ?? -1);
    return 0;
  }, 'release');
  const [loader] = vm.run(SEMAPHORE_LUA, 'ngx.semaphore', newFn, post, wait, count, release);
  vm.setField(ctx.preload, 'ngx.semaphore', loader ?? null);
}

/** semaphore:wait may wait here: nginx answers nil + "API disabled ..." elsewhere (it does not raise). */
function apiAllowedHere(r: Ngx): boolean {
  return apiAllowed('ngx.semaphore.wait', phaseOfBit(phaseBitOf(r)));
}
