// Lua plugins in Kong's layout on lua.packagePath: `phasekit.plugins.<name>.handler` (a table with
// PRIORITY, VERSION and per-phase methods) and `phasekit.plugins.<name>.schema` (a Kong-style
// schema table). Loaded with the sandbox's `require`; methods run as the request's Lua code.

import { PHASE_FACTS, type Ngx } from '@phasekit/core';
import { EXIT_SIGNAL, LuaHandlerError, type LuaBinding, type LuaRef, type LuaValue } from '@phasekit/lua';
import { checkSchema, configField, validateKong, type KongField } from '../kong-schema.js';
import { LUA_METHOD_NAMES, PLUGIN_PHASES, type PluginPhase, type PluginSpec, type RuntimeMethod } from '../types.js';

const LOAD_LUA = String.raw`
local sandbox, name = ...
local require, type, pcall, pairs, ipairs, tostring = sandbox.require, type, pcall, pairs, ipairs, tostring
local base = "phasekit.plugins." .. name
local ok, handler = pcall(require, base .. ".handler")
if not ok then return nil, tostring(handler) end
if type(handler) ~= "table" then return nil, base .. ".handler returned a " .. type(handler) .. ", not a table" end
local methods = {}
for _, m in ipairs({ "init_worker", "rewrite", "access", "balancer", "header_filter", "body_filter", "log" }) do
  local f = handler[m]
  if f ~= nil and type(f) ~= "function" then return nil, base .. ".handler: " .. m .. " is a " .. type(f) .. ", not a function" end
  if f ~= nil then methods[#methods + 1] = m end
end
local priority, version = handler.PRIORITY, handler.VERSION
if type(priority) ~= "number" then return nil, base .. ".handler: PRIORITY must be a number" end
local before, after = handler.BEFORE, handler.AFTER
local ok2, schema = pcall(require, base .. ".schema")
local schema_json
if ok2 then
  if type(schema) ~= "table" then return nil, base .. ".schema returned a " .. type(schema) .. ", not a table" end
  -- functions (custom validators) cannot cross into JSON: they are left out
  local seen = {}
  local function plain(v)
    if type(v) ~= "table" then
      if type(v) == "function" or type(v) == "userdata" or type(v) == "thread" then return nil end
      return v
    end
    if seen[v] then return nil end
    seen[v] = true
    local t = {}
    for k, x in pairs(v) do t[k] = plain(x) end
    seen[v] = nil
    return t
  end
  local encoded, err = require("cjson.safe").encode(plain(schema))
  if not encoded then return nil, base .. ".schema: " .. tostring(err) end
  schema_json = encoded
elseif not tostring(schema):find("module '" .. base .. ".schema' not found", 1, true) then
  return nil, tostring(schema)
end
local function names(list)
  if type(list) ~= "table" then return "" end
  local out = {}
  for _, n in ipairs(list) do out[#out + 1] = tostring(n) end
  return table.concat(out, ",")
end
return handler, priority, tostring(version or "0.0.0"), table.concat(methods, ","), schema_json, names(before), names(after)
`;

const HELPERS_LUA = String.raw`
local sandbox = ...
local decode = sandbox.require("cjson.safe").decode
local find, pcall = string.find, pcall
return function(s) return (decode(s)) end, function(s, p)
  local ok, r = pcall(find, s, p)
  return ok and r ~= nil
end
`;

/** Loads Lua plugins from one Lua runtime (one engine generation). */
export class LuaPluginLoader {
  readonly #binding: LuaBinding;
  readonly #decode: LuaRef;
  readonly #find: LuaRef;

  constructor(binding: LuaBinding) {
    this.#binding = binding;
    const [decode, find] = binding.vm.run(HELPERS_LUA, 'phasekit.plugins.helpers', binding.vm.sandbox);
    this.#decode = decode as LuaRef;
    this.#find = find as LuaRef;
  }

  /** The plugin, or a message saying why it cannot be loaded. */
  load(name: string): PluginSpec | string {
    const vm = this.#binding.vm;
    let values: LuaValue[];
    try {
      values = vm.run(LOAD_LUA, 'phasekit.plugins.load', vm.sandbox, name);
    } catch (err) {
      return (err as Error).message;
    }
    const [handler, priority, version, methodList, schemaJson, before, after] = values;
    if (handler === null || handler === undefined) return String(priority);
    const ref = handler as LuaRef;
    let field: KongField | undefined;
    if (typeof schemaJson === 'string') {
      field = configField(JSON.parse(schemaJson));
      const problems = field === undefined ? [] : checkSchema(field);
      if (problems.length > 0) return `phasekit.plugins.${name}.schema: ${problems.join('; ')}`;
    }
    const present = new Set(String(methodList).split(',').filter((m) => m !== ''));
    const methods: Partial<Record<PluginPhase, RuntimeMethod>> = {};
    for (const phase of PLUGIN_PHASES) {
      const luaName = LUA_METHOD_NAMES[phase];
      if (present.has(luaName)) methods[phase] = this.#method(ref, vm.getField(ref, luaName) as LuaRef, phase);
    }
    const initRef = present.has('init_worker') ? (vm.getField(ref, 'init_worker') as LuaRef) : undefined;
    const list = (v: LuaValue) => String(v ?? '').split(',').filter((n) => n !== '');
    return {
      name,
      priority: Number(priority),
      version: String(version),
      source: 'lua',
      before: list(before),
      after: list(after),
      validate: (conf) => validateKong(field, conf, (s, p) => this.#test(s, p)),
      prepare: (conf) => this.#toLua(conf),
      methods,
      initWorker: initRef === undefined ? undefined : (ngx) => this.#binding.run(vm.spawn(initRef, { args: [ref] }), ngx),
    };
  }

  #test(value: string, pattern: string): boolean {
    const r = this.#binding.vm.call(this.#find, { args: [value, pattern] });
    return r.status === 'done' && r.values[0] === true;
  }

  /** A validated conf as a Lua table (made once per plugin instance). */
  #toLua(conf: unknown): LuaValue {
    const [table] = this.#binding.vm.run('local d, s = ... return d(s)', 'phasekit.plugins.conf', this.#decode, JSON.stringify(conf ?? {}));
    return table ?? null;
  }

  /** `handler:phase(conf)` as a request's Lua code: waiting where the phase may wait. */
  #method(handler: LuaRef, fn: LuaRef, phase: PluginPhase): RuntimeMethod {
    const binding = this.#binding;
    const vm = binding.vm;
    if (PHASE_FACTS[phase].yields) return (ngx, conf) => binding.run(vm.spawn(fn, { args: [handler, conf as LuaValue] }), ngx);
    const phaseName = LUA_METHOD_NAMES[phase];
    return (ngx: Ngx, conf) => {
      const th = vm.spawn(fn, { args: [handler, conf as LuaValue] });
      const r = binding.resume(th, ngx);
      if (r.status === 'done') return r.values[0];
      if (r.status === 'error') throw new LuaHandlerError(r.message, r.traceback, r.killed);
      th.close();
      // ngx.exit where it ends the handler (body_filter) is a normal end.
      if (r.fromJs && r.value === EXIT_SIGNAL) return undefined;
      const message = `attempt to yield in ${phaseName}: the plugin's ${phaseName} method may not wait`;
      throw new LuaHandlerError(message, message, false);
    };
  }
}

/** The Lua runtime's binding API (from @phasekit/lua's runtime), if one of `runtimes` offers it. */
export function luaBindingOf(runtimes: readonly unknown[]): LuaBinding | undefined {
  for (const rt of runtimes) {
    const binding = (rt as { binding?: () => LuaBinding }).binding;
    if (typeof binding === 'function') return binding.call(rt);
  }
  return undefined;
}
