// HAProxy's TXN, HTTP, Fetches, Converters and Reply classes for Lua, over core's Txn.

import type { Ngx } from '@phasekit/core';
import type { TxnReply, VarValue } from '../types.js';
import { EXIT_SIGNAL, guard, pushPairs } from '@phasekit/lua';
import type { LuaCall, LuaRef } from '@phasekit/lua';
import type { HaproxyLua } from './context.js';

const TXN_LUA = String.raw`
local js, http_fns = ...
local type, tostring, select, setmetatable, rawget, rawset, pairs, error = type, tostring, select, setmetatable, rawget, rawset, pairs, error
local unpack = table.unpack

-- HAProxy's header tables: hdrs["name"][0] is the first value.
local function zero_based(...)
  local t = {}
  for i = 1, select("#", ...), 2 do
    local k, v = select(i, ...)
    local l = t[k]
    if l == nil then t[k] = { [0] = v } else l[#l + 1] = v end
  end
  return t
end

local function strings(...)
  local n = select("#", ...)
  local out = { ... }
  for i = 1, n do
    local v = out[i]
    if v ~= nil and type(v) ~= "string" then out[i] = tostring(v) end
  end
  return n, out
end

-- txn.f:req_hdr("host"): methods made on first use for every name the registry knows.
local function sample_class(has, call, safe)
  local methods = {}
  return setmetatable({}, { __index = function(_, name)
    if type(name) ~= "string" then return nil end
    local m = methods[name]
    if m ~= nil then return m end
    if not has(name) then return nil end
    m = function(_, ...)
      local n, args = strings(...)
      return call(name, safe, unpack(args, 1, n))
    end
    methods[name] = m
    return m
  end })
end
local F = sample_class(js.has_fetch, js.fetch, false)
local SF = sample_class(js.has_fetch, js.fetch, true)
local C = sample_class(js.has_converter, js.convert, false)
local SC = sample_class(js.has_converter, js.convert, true)

local HTTP = {}
HTTP.__index = HTTP
function HTTP.req_get_headers(_) return zero_based(js.req_get_headers()) end
function HTTP.res_get_headers(_) return zero_based(js.res_get_headers()) end
for name, f in pairs(http_fns) do
  HTTP[name] = function(_, ...)
    local n, args = strings(...)
    return f(unpack(args, 1, n))
  end
end
local http = setmetatable({}, HTTP)

local Reply = {}
Reply.__index = Reply
function Reply.set_status(self, status, reason) self.status = status; self.reason = reason end
function Reply.add_header(self, name, value)
  local l = self.headers[name]
  if l == nil then l = {}; self.headers[name] = l end
  l[#l + 1] = value
end
function Reply.del_header(self, name) self.headers[name] = nil end
function Reply.set_body(self, body) self.body = body end
local function new_reply(t)
  t = t or {}
  local r = setmetatable({ status = t.status or 200, reason = t.reason, headers = {}, body = t.body or "" }, Reply)
  for k, v in pairs(t.headers or {}) do
    if type(v) == "table" then
      local l = {}
      for i = 1, #v do l[i] = v[i] end
      r.headers[k] = l
    else
      r.headers[k] = { v }
    end
  end
  return r
end

local PRIV = {}
local function vars(class)
  function class.get_priv(self) return rawget(self, PRIV) end
  function class.set_priv(self, v) rawset(self, PRIV, v) end
  function class.set_var(_, name, value, ifexist) return js.set_var(name, value, ifexist and true or false) end
  function class.get_var(_, name) return js.get_var(name) end
  function class.unset_var(_, name) return js.unset_var(name) end
end

local TXN = {}
TXN.__index = TXN
vars(TXN)
function TXN.log(_, level, msg) return js.log(level, tostring(msg)) end
function TXN.deflog(_, msg) return js.log(6, tostring(msg)) end
function TXN.Debug(_, msg) return js.log(7, tostring(msg)) end
function TXN.Info(_, msg) return js.log(6, tostring(msg)) end
function TXN.Warning(_, msg) return js.log(4, tostring(msg)) end
function TXN.Alert(_, msg) return js.log(1, tostring(msg)) end
function TXN.reply(_, t) return new_reply(t) end
function TXN.done(_, reply)
  if reply == nil then return js.txn_done(false) end
  if type(reply) ~= "table" then error("bad argument #1 to 'done' (table expected, got " .. type(reply) .. ")", 2) end
  local flat, n = {}, 0
  for name, v in pairs(reply.headers or {}) do
    if type(v) == "table" then
      if v[0] ~= nil then n = n + 2; flat[n - 1] = tostring(name); flat[n] = tostring(v[0]) end
      for i = 1, #v do n = n + 2; flat[n - 1] = tostring(name); flat[n] = tostring(v[i]) end
    else
      n = n + 2; flat[n - 1] = tostring(name); flat[n] = tostring(v)
    end
  end
  local body = reply.body
  if body ~= nil and type(body) ~= "string" then body = tostring(body) end
  return js.txn_done(true, tonumber(reply.status) or 200, reply.reason, body or "", n, unpack(flat, 1, n))
end

-- One TXN object per request, shared by its actions and fetches (its priv data with it).
local function get_txn()
  local t = js.txn_table()
  if t ~= nil then return t end
  t = setmetatable({ f = F, sf = SF, c = C, sc = SC, http = http }, TXN)
  js.set_txn_table(t)
  return t
end

return { get_txn = get_txn, F = F, SF = SF, C = C, SC = SC, zero_based = zero_based, vars = vars }
`;

/** A Lua argument as a string (numbers as Lua prints them; nil → undefined). */
export function argString(call: LuaCall, i: number): string | undefined {
  const v = call.value(i);
  if (v === null || v === undefined) return undefined;
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString();
  return String(v);
}

function argStrings(call: LuaCall, from: number): string[] {
  const out: string[] = [];
  for (let i = from; i <= call.argCount; i++) out.push(argString(call, i) ?? '');
  return out;
}

function pushVar(call: LuaCall, v: VarValue | undefined): number {
  if (v === undefined) call.pushNil();
  else call.pushValue(v);
  return 1;
}

export interface TxnModule {
  /** The Lua table the applet module builds on: get_txn, F, SF, C, SC, zero_based, vars. */
  readonly shared: LuaRef;
  requestDone(ngx: Ngx): void;
}

export function installTxn(lua: HaproxyLua): TxnModule {
  const { base, host } = lua;
  const { vm } = base;
  const js = vm.newTable();
  const fn = (name: string, f: (call: LuaCall) => number | void) => base.fn(js, name, f);
  const tables = new Map<Ngx, LuaRef>();

  fn('has_fetch', (call) => {
    call.pushBoolean(host.hasFetchMethod(call.checkString(1)));
    return 1;
  });
  fn('fetch', (call) => {
    const ngx = base.request(call);
    const method = call.checkString(1);
    const safe = call.boolean(2);
    const value = guard(call, () => host.fetchMethod(ngx, method, argStrings(call, 3)));
    if (value === undefined) {
      if (safe) call.pushString('');
      else call.pushNil();
    } else call.pushString(value);
    return 1;
  });
  fn('has_converter', (call) => {
    call.pushBoolean(host.hasConverterMethod(call.checkString(1)));
    return 1;
  });
  fn('convert', (call) => {
    const method = call.checkString(1);
    const safe = call.boolean(2);
    const input = argString(call, 3);
    if (input === undefined) return call.raiseError(`bad argument #1 to '${method}' (string expected, got nil)`);
    const value = guard(call, () => host.convertMethod(method, input, argStrings(call, 4)));
    if (value === undefined) {
      if (safe) call.pushString('');
      else call.pushNil();
    } else call.pushString(value);
    return 1;
  });
  fn('txn_table', (call) => {
    const ref = tables.get(base.request(call));
    if (ref === undefined) call.pushNil();
    else call.pushValue(ref);
    return 1;
  });
  fn('set_txn_table', (call) => {
    const ngx = base.request(call);
    const ref = call.ref(1);
    if (ref !== undefined) {
      tables.get(ngx)?.release();
      tables.set(ngx, ref);
    }
    return 0;
  });
  fn('set_var', (call) => {
    const ngx = base.request(call);
    const name = call.checkString(1);
    const raw = call.value(2);
    const value = typeof raw === 'bigint' ? Number(raw) : raw instanceof Uint8Array ? Buffer.from(raw).toString() : raw;
    const ifExist = call.boolean(3);
    guard(call, () => host.txn(ngx).setVar(name, value as VarValue, ifExist));
    return 0;
  });
  fn('get_var', (call) => {
    const ngx = base.request(call);
    const name = call.checkString(1);
    return pushVar(call, guard(call, () => host.txn(ngx).getVar(name)));
  });
  fn('unset_var', (call) => {
    const ngx = base.request(call);
    const name = call.checkString(1);
    guard(call, () => host.txn(ngx).unsetVar(name));
    return 0;
  });
  fn('log', (call) => {
    const level = call.number(1);
    const message = argString(call, 2) ?? '';
    guard(call, () => host.log(base.maybeRequest(), level ?? -1, message));
    return 0;
  });
  fn('txn_done', (call) => {
    const ngx = base.request(call);
    const top = lua.sync.at(-1);
    // From a fetch or converter, txn:done() only ends the Lua code, as core.done() does.
    if (top?.kind === 'sample-fetch' || top?.kind === 'converter') {
      lua.doneValue = null;
      return call.yield(EXIT_SIGNAL);
    }
    let reply: TxnReply | undefined;
    if (call.boolean(1)) {
      const headers: Record<string, string[]> = {};
      const n = call.number(5) ?? 0;
      for (let i = 0; i < n; i += 2) {
        const name = argString(call, 6 + i) ?? '';
        (headers[name] ??= []).push(argString(call, 7 + i) ?? '');
      }
      reply = { status: call.number(2) ?? 200, headers, body: call.bytes(4) ?? '' };
      const reason = argString(call, 3);
      if (reason !== undefined) reply.reason = reason;
    }
    guard(call, () => host.txn(ngx).done(reply));
    return call.yield(EXIT_SIGNAL);
  });
  fn('req_get_headers', (call) => pushPairs(call, guard(call, () => host.txn(base.request(call)).http.reqGetHeaders())));
  fn('res_get_headers', (call) => pushPairs(call, guard(call, () => host.txn(base.request(call)).http.resGetHeaders())));
  fn('wake_time', (call) => {
    const ngx = base.request(call);
    host.setWakeTime(ngx, call.checkNumber(1));
    return 0;
  });

  // txn.http:req_set_header(name, value) ...: arguments arrive as strings.
  const http = vm.newTable();
  const op = (name: string, run: (h: ReturnType<typeof host.txn>['http'], a: string[]) => void) =>
    base.fn(http, name, (call) => {
      const ngx = base.request(call);
      const args = argStrings(call, 1);
      guard(call, () => run(host.txn(ngx).http, args));
      return 0;
    });
  const [s0, s1, s2] = [(a: string[]) => a[0] ?? '', (a: string[]) => a[1] ?? '', (a: string[]) => a[2] ?? ''];
  op('req_set_header', (h, a) => h.reqSetHeader(s0(a), s1(a)));
  op('req_add_header', (h, a) => h.reqAddHeader(s0(a), s1(a)));
  op('req_del_header', (h, a) => h.reqDelHeader(s0(a)));
  op('req_rep_header', (h, a) => h.reqRepHeader(s0(a), s1(a), s2(a)));
  op('res_set_header', (h, a) => h.resSetHeader(s0(a), s1(a)));
  op('res_add_header', (h, a) => h.resAddHeader(s0(a), s1(a)));
  op('res_del_header', (h, a) => h.resDelHeader(s0(a)));
  op('res_rep_header', (h, a) => h.resRepHeader(s0(a), s1(a), s2(a)));
  op('req_set_method', (h, a) => h.reqSetMethod(s0(a)));
  op('req_set_path', (h, a) => h.reqSetPath(s0(a)));
  op('req_set_query', (h, a) => h.reqSetQuery(s0(a)));
  op('req_set_uri', (h, a) => h.reqSetUri(s0(a)));
  op('res_set_status', (h, a) => h.resSetStatus(Number(s0(a)), a[1]));

  const [shared] = vm.run(TXN_LUA, 'haproxy.txn', js, http);
  return {
    shared: shared as LuaRef,
    requestDone(ngx) {
      const ref = tables.get(ngx);
      if (ref === undefined) return;
      ref.release();
      tables.delete(ngx);
    },
  };
}
