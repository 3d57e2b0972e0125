// HAProxy's `core` and `act` for Lua: registrations, log, time, sleep/yield/done; contexts decided by core's host.

import { PHASE_BIT, phaseBitOf, type Ngx } from '@phasekit/core';
import { EXIT_SIGNAL, guard } from '@phasekit/lua';
import { LuaRef as Ref, type LuaCall, type LuaChunk, type LuaRef, type LuaValue } from '@phasekit/lua';
import { installApplet } from './applet.js';
import { createHaproxyLua, describeContext, type HaproxyLuaHost } from './context.js';
import { installTxn } from './txn.js';

const CORE_LUA = String.raw`
local S, js = ...
local type, tostring, error, select = type, tostring, error, select
local concat, unpack = table.concat, table.unpack

local function need(fname, i, v, t)
  if type(v) ~= t then error("bad argument #" .. i .. " to '" .. fname .. "' (" .. t .. " expected, got " .. type(v) .. ")", 3) end
end

local core = { emerg = 0, alert = 1, crit = 2, err = 3, warning = 4, notice = 5, info = 6, debug = 7, thread = 0 }
function core.log(level, msg) return js.log(level, tostring(msg)) end
function core.Debug(msg) return js.log(7, tostring(msg)) end
function core.Info(msg) return js.log(6, tostring(msg)) end
function core.Warning(msg) return js.log(4, tostring(msg)) end
function core.Alert(msg) return js.log(1, tostring(msg)) end
function core.now()
  local ms = js.now()
  return { sec = ms // 1000, usec = (ms % 1000) * 1000 }
end
core.sleep = js.sleep
core.msleep = js.msleep
core.yield = js.yield
core.done = js.done
function core.concat()
  local buf, n = {}, 0
  return {
    add = function(_, s) n = n + 1; buf[n] = tostring(s) end,
    dump = function(_) return concat(buf, "", 1, n) end,
  }
end
function core.register_init(fn)
  need("register_init", 1, fn, "function")
  return js.register_init(fn)
end
function core.register_task(fn, ...)
  need("register_task", 1, fn, "function")
  return js.register_task(fn, ...)
end
function core.register_action(name, actions, fn, nb_args)
  need("register_action", 1, name, "string")
  need("register_action", 2, actions, "table")
  need("register_action", 3, fn, "function")
  return js.register_action(name, fn, nb_args or 0, unpack(actions))
end
function core.register_fetches(name, fn)
  need("register_fetches", 1, name, "string")
  need("register_fetches", 2, fn, "function")
  return js.register_fetches(name, fn)
end
function core.register_converters(name, fn)
  need("register_converters", 1, name, "string")
  need("register_converters", 2, fn, "function")
  return js.register_converters(name, fn)
end
function core.register_service(name, mode, fn)
  need("register_service", 1, name, "string")
  need("register_service", 2, mode, "string")
  need("register_service", 3, fn, "function")
  return js.register_service(name, mode, fn)
end
rawset(S, "core", core)

local act = { CONTINUE = 0, STOP = 1, YIELD = 2, ERROR = 3, DONE = 4, DENY = 5, ABORT = 6, INVALID = 7 }
function act.wake_time(a, b)
  local ms = type(a) == "table" and b or a
  return js.wake_time(ms)
end
rawset(S, "act", act)
`;

/** Runs actions and fetches with the request's TXN object as first argument. */
const WRAPPERS_LUA = String.raw`
local get_txn = ...
return function(fn, ...) return fn(get_txn(), ...) end
`;

export interface HaproxyModule {
  /** Runs a luaLoad file (compiled) in the body context, with the shared globals. */
  load(chunk: LuaChunk, file: string): void;
  requestDone(ngx: Ngx): void;
}

/** Installs `core`, `act`, TXN and AppletHTTP into the VM for one generation's host. */
export function installHaproxy(h: HaproxyLuaHost): HaproxyModule {
  const lua = createHaproxyLua(h);
  const { base, host } = lua;
  const { vm } = base;
  const txn = installTxn(lua);
  const serviceWrapper = installApplet(lua, txn.shared);
  const getTxn = vm.getField(txn.shared, 'get_txn') as LuaRef;
  const [withTxn] = vm.run(WRAPPERS_LUA, 'haproxy.wrap', getTxn);
  const txnWrapper = withTxn as LuaRef;
  getTxn.release();

  const js = vm.newTable();
  const fn = (name: string, f: (call: LuaCall) => number | void) => base.fn(js, name, f);
  const wait = (call: LuaCall, api: string, ms: number) => {
    const sync = lua.sync.at(-1);
    if (sync !== undefined) return call.raiseError(`${api}: cannot block in ${describeContext(sync)}`);
    const ngx = base.maybeRequest();
    if (ngx === undefined) return call.raiseError(`${api}: cannot block here`);
    // A stopped task that caught the error of its last sleep ends at its next one.
    if (host.taskStopped(ngx)) return call.yield(EXIT_SIGNAL);
    guard(call, () => host.checkWait(ngx));
    return call.yield(host.sleep(ngx, ms));
  };
  const fnArg = (call: LuaCall, i: number): LuaRef => {
    const ref = call.ref(i);
    if (ref === undefined) return call.raiseError(`bad argument #${i} (function expected)`);
    return ref;
  };

  fn('log', (call) => {
    const level = call.number(1);
    const message = call.string(2) ?? '';
    guard(call, () => host.log(base.maybeRequest(), level ?? -1, message));
    return 0;
  });
  fn('now', (call) => {
    call.pushInteger(Math.floor(host.clock.now()));
    return 1;
  });
  fn('sleep', (call) => wait(call, 'core.sleep', Math.max(0, call.checkNumber(1)) * 1000));
  fn('msleep', (call) => wait(call, 'core.msleep', Math.max(0, call.checkNumber(1))));
  fn('yield', (call) => wait(call, 'core.yield', 0));
  fn('done', (call) => {
    const v = call.value(1);
    lua.doneValue = v instanceof Ref ? null : v;
    return call.yield(EXIT_SIGNAL);
  });
  fn('wake_time', (call) => {
    const ngx = base.request(call);
    host.setWakeTime(ngx, call.checkNumber(1));
    return 0;
  });
  fn('register_init', (call) => {
    const f = fnArg(call, 1);
    guard(call, () => host.registerInit((ngx) => lua.runSync(f, ngx, [], { kind: 'init', name: '' })));
    return 0;
  });
  fn('register_task', (call) => {
    const f = fnArg(call, 1);
    const args: LuaValue[] = [];
    for (let i = 2; i <= call.argCount; i++) {
      const t = call.type(i);
      args.push(t === 'table' || t === 'function' || t === 'userdata' || t === 'thread' ? (call.ref(i) ?? null) : call.value(i));
    }
    // A task may loop forever between sleeps: its CPU budget counts per resume, as timers' do.
    guard(call, () => host.registerTask((task) => h.run(vm.spawn(f, { args, limitScope: 'resume' }), task.ngx), []));
    return 0;
  });
  fn('register_action', (call) => {
    const name = call.checkString(1);
    const f = fnArg(call, 2);
    const nbArgs = call.number(3) ?? 0;
    const rulesets: string[] = [];
    for (let i = 4; i <= call.argCount; i++) rulesets.push(call.string(i) ?? String(call.value(i)));
    let full = '';
    full = guard(call, () =>
      host.registerAction(name, rulesets, (t, ...args) => {
        const ngx = t.ngx;
        // http-res actions run in header_filter: to the end, without waiting.
        if (phaseBitOf(ngx) === PHASE_BIT.headerFilter) return lua.runSync(txnWrapper, ngx, [f, ...args], { kind: 'http-res action', name: full });
        return h.run(vm.spawn(txnWrapper, { args: [f, ...args] }), ngx);
      }, nbArgs),
    );
    return 0;
  });
  fn('register_fetches', (call) => {
    const name = call.checkString(1);
    const f = fnArg(call, 2);
    let full = '';
    full = guard(call, () => host.registerFetch(name, (t, ...args) => sample(lua.runSync(txnWrapper, t.ngx, [f, ...args], { kind: 'sample-fetch', name: full }))));
    return 0;
  });
  fn('register_converters', (call) => {
    const name = call.checkString(1);
    const f = fnArg(call, 2);
    let full = '';
    // Converters have no transaction and no request: ngx's request APIs fail there.
    full = guard(call, () => host.registerConverter(name, (value, ...args) => sample(lua.runSync(f, undefined, [value, ...args], { kind: 'converter', name: full }))));
    return 0;
  });
  fn('register_service', (call) => {
    const name = call.checkString(1);
    const mode = call.checkString(2);
    const f = fnArg(call, 3);
    guard(call, () => host.registerService(name, mode, (applet) => h.run(vm.spawn(serviceWrapper, { args: [f] }), applet.ngx)));
    return 0;
  });

  vm.run(CORE_LUA, 'haproxy.core', vm.sandbox, js);

  return {
    load(chunk, file) {
      lua.runSync(chunk, undefined, [], { kind: 'body', name: file }, 'sandbox');
    },
    requestDone(ngx) {
      txn.requestDone(ngx);
    },
  };
}

/** A Lua fetch's or converter's result: strings, numbers and booleans; anything else is "no sample". */
function sample(v: LuaValue): string | number | boolean | undefined {
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString();
  if (typeof v === 'bigint') return v.toString();
  return undefined;
}
