// ngx.thread.spawn / wait / kill and ngx.on_abort: light threads of the running handler (see threads.ts).

import { checkRequestApi, type Ngx } from '@phasekit/core';
import type { Light, LuaRun, ThreadControl } from '../threads.js';
import type { LuaCall, LuaRef, LuaValue } from '../vm/index.js';
import { EXIT_SIGNAL, guard, type RequestInstall } from './request.js';

// Handles are tables (OpenResty hands out the coroutine itself); a user thread's results stay in
// Lua (results[id]) until its parent waits for it.
const THREAD_LUA = String.raw`
local ngx, fns, results, sandbox = ...
local spawn_js, wait_js, kill_js, check_js, on_abort_js = fns.spawn, fns.wait, fns.kill, fns.check, fns.on_abort
local pack, unpack, select, type, getmetatable, setmetatable, error, format = table.pack, table.unpack, select, type, getmetatable, setmetatable, error, string.format
local getinfo = debug.getinfo
-- luaL_argerror's message: the name the caller used ("?" through pcall). level 1: the API function.
local function argerr(level, n, msg)
  local info = getinfo(level + 1, "n")
  error("bad argument #" .. n .. " to '" .. (info and info.name or "?") .. "' (" .. msg .. ")", 0)
end
local thread_mt = { __tostring = function(t) return format("thread: 0x%08x", t[1]) end }
local function body(id, f, ...)
  results[id] = pack(f(...))
end
local thread = {}
ngx.thread = thread
function thread.spawn(f, ...)
  if type(f) ~= "function" then
    check_js("ngx.thread.spawn")
    argerr(1, 1, "Lua function expected")
  end
  return setmetatable({ spawn_js(body, f, ...) }, thread_mt)
end
local function ids(...)
  local n = select("#", ...)
  local out = {}
  for i = 1, n do
    local t = select(i, ...)
    if getmetatable(t) ~= thread_mt then argerr(2, i, "lua thread expected") end
    out[i] = t[1]
  end
  return out, n
end
function thread.wait(...)
  check_js("ngx.thread.wait")
  if select("#", ...) == 0 then error("at least one coroutine should be specified", 0) end
  local list, n = ids(...)
  local kind, v = wait_js(unpack(list, 1, n))
  if kind == 1 then
    local r = results[v]
    results[v] = nil
    if r then return true, unpack(r, 1, r.n) end
    return true
  elseif kind == 0 then
    return false, v
  end
  return nil, v
end
function thread.kill(t)
  check_js("ngx.thread.kill")
  if type(t) == "thread" then return nil, "not user thread" end
  local list = ids(t)
  local ok, err = kill_js(list[1])
  if ok then
    results[list[1]] = nil
    return ok
  end
  return ok, err
end
function ngx.on_abort(f)
  return on_abort_js(f)
end
-- coroutine.status knows light threads: "running" (also while it waits), "zombie" (done, not waited for), "dead".
local co = sandbox.coroutine
local co_status = co.status
co.status = function(co)
  if getmetatable(co) == thread_mt then return fns.status(co[1]) end
  return co_status(co)
end
return function(...)
  for i = 1, select("#", ...) do results[select(i, ...)] = nil end
end
`;

export function installThread(ctx: RequestInstall, control: ThreadControl): (ids: readonly number[]) => void {
  const { vm, ngx } = ctx;
  const fns = vm.newTable();
  const results = vm.newTable();
  const current = (call: LuaCall) => control.current() ?? call.raiseError('no request found', 0);

  ctx.fn(fns, 'check', (call) => {
    const r = ctx.request(call);
    check(call, r, call.string(1) as 'ngx.thread.wait' | 'ngx.thread.kill');
    return 0;
  });
  ctx.fn(fns, 'spawn', (call) => {
    const r = ctx.request(call);
    check(call, r, 'ngx.thread.spawn');
    if (call.type(2) !== 'function') return call.raiseError("bad argument #1 to 'spawn' (Lua function expected)", 0);
    const { run } = current(call);
    const parent = call.thread;
    const id = control.nextId();
    const refs: LuaRef[] = [];
    const args: LuaValue[] = [id];
    for (let i = 2; i <= call.argCount; i++) args.push(keep(call, i, refs));
    const body = call.ref(1) as LuaRef;
    let th;
    try {
      th = control.newThread(run, body, args);
    } finally {
      body.release();
      for (const ref of refs) ref.release();
    }
    run.spawn(id, th, parent);
    // The new thread ended the request (ngx.exit): the spawning thread unwinds too.
    if (run.exiting) return call.yield(EXIT_SIGNAL);
    call.pushNumber(id);
    return 1;
  });
  ctx.fn(fns, 'wait', (call) => {
    const { run } = current(call);
    const me = call.thread;
    const lights = [];
    for (let i = 1; i <= call.argCount; i++) {
      const light = run.user(call.number(i) ?? -1);
      if (light === undefined) continue;
      if (light.parent !== me) return call.raiseError('only the parent coroutine can wait on the thread', 0);
      lights.push(light);
    }
    const ready = lights.find((l) => l.state === 'zombie');
    if (ready !== undefined) return answer(call, run, ready);
    const pending = lights.filter((l) => l.state === 'running');
    if (pending.length === 0) {
      call.pushNil();
      call.pushString('already waited or killed');
      return 2;
    }
    let settle!: (l: Light) => void;
    const p: Promise<Light> & { cancel?: () => void } = new Promise((resolve) => {
      settle = resolve;
    });
    const stop = () => {
      for (const l of pending) l.waiter = undefined;
    };
    for (const l of pending) {
      l.waiter = (done) => {
        stop();
        settle(done);
      };
    }
    p.cancel = stop;
    return call.yield(p, (c, done) => answer(c, run, done as Light));
  });
  ctx.fn(fns, 'kill', (call) => {
    const { run } = current(call);
    const light = run.user(call.number(1) ?? -1);
    if (light === undefined || light.state === 'dead') {
      call.pushNil();
      call.pushString('already waited or killed');
      return 2;
    }
    if (light.parent !== call.thread) {
      call.pushNil();
      call.pushString('killer not parent');
      return 2;
    }
    run.kill(light);
    call.pushNumber(1);
    return 1;
  });
  ctx.fn(fns, 'status', (call) => {
    const light = control.current()?.run.user(call.number(1) ?? -1);
    call.pushString(light?.state ?? 'dead');
    return 1;
  });
  const abortRefs = new Map<Ngx, LuaRef>();
  ctx.fn(fns, 'on_abort', (call) => {
    const r = ctx.request(call);
    if (call.type(1) !== 'function') {
      const [ok, err] = guard(call, () => r.onAbort(() => undefined));
      if (ok === true) return call.raiseError(`bad argument #1 to 'on_abort' (function expected, got ${call.type(1)})`, 0);
      call.pushNil();
      call.pushString(err ?? '');
      return 2;
    }
    const fn = call.ref(1) as LuaRef;
    const [ok, err] = guard(call, () => r.onAbort(() => runAbortHandler(control, r, fn)));
    if (ok !== true) {
      fn.release();
      call.pushNil();
      call.pushString(err ?? '');
      return 2;
    }
    abortRefs.set(r, fn);
    call.pushNumber(1);
    return 1;
  });
  ctx.onRequestDone((r) => {
    abortRefs.get(r)?.release();
    abortRefs.delete(r);
  });
  const [drop] = vm.run(THREAD_LUA, 'ngx.thread', ngx, fns, results, vm.sandbox);
  const dropRef = drop as LuaRef;
  return (ids) => {
    vm.call(dropRef, { args: ids });
  };
}

/** OpenResty's "API disabled ..." for a C function: no position in the message. */
function check(call: LuaCall, r: Ngx, api: 'ngx.thread.spawn' | 'ngx.thread.wait' | 'ngx.thread.kill'): void {
  try {
    checkRequestApi(r, api);
  } catch (err) {
    call.raiseError((err as Error).message, 0);
  }
}

/** A thread's arguments: tables, functions, userdata and threads anchored while the thread is made. */
function keep(call: LuaCall, i: number, refs: LuaRef[]): LuaValue {
  const t = call.type(i);
  if (t === 'table' || t === 'function' || t === 'userdata' || t === 'thread') {
    const ref = call.ref(i) as LuaRef;
    refs.push(ref);
    return ref;
  }
  return call.value(i);
}

/** `true` + results (kept in Lua, unpacked there) or `false` + the error, for a finished thread. */
function answer(call: LuaCall, run: LuaRun, light: Light): number {
  run.reap(light);
  if (light.failure !== undefined) {
    call.pushNumber(0);
    call.pushString(light.failure);
    return 2;
  }
  call.pushNumber(1);
  call.pushNumber(light.id);
  return 2;
}

/** The client went away: ngx.on_abort's handler joins the request's waiting run as a user thread. */
function runAbortHandler(control: ThreadControl, ngx: Ngx, fn: LuaRef): void {
  const run = control.waitingRun(ngx);
  if (run === undefined || run.finished) return;
  run.spawn(control.nextId(), control.newThread(run, fn, []), -1);
}
