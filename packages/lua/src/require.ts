// require() and package.path for Lua handlers: modules from lua.packagePath, built-ins from preload.

import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { RequestInstall } from './ngx/request.js';

/** nginx's default lua_package_path, relative to the prefix. */
const DEFAULT_PATH = './?.lua;./?/init.lua';

const REQUIRE_LUA = String.raw`
local sandbox, preload, find, cache_files, path = ...
local type, error, load = type, error, sandbox.load
local loaded = {}
-- cpath is empty: no C module can be loaded into the sandbox
local package = { loaded = loaded, preload = preload, path = path, cpath = "", config = "/\n;\n?\n!\n-\n" }
sandbox.package = package
-- the standard libraries are loaded modules, as in LuaJIT: require "math" returns math
for _, lib in ipairs({ "string", "table", "math", "utf8", "coroutine", "os", "debug", "io", "bit", "jit" }) do
  if sandbox[lib] ~= nil then loaded[lib] = sandbox[lib] end
end
loaded._G = sandbox
loaded.package = package
function sandbox.require(name)
  if type(name) ~= "string" then error("bad argument #1 to 'require' (string expected, got " .. type(name) .. ")", 2) end
  local m = loaded[name]
  if m ~= nil then return m end
  local pre = preload[name]
  local from_file = false
  if pre then
    m = pre(name)
  else
    from_file = true
    local src, path = find(name)
    if not src then error("module '" .. name .. "' not found:" .. path, 2) end
    local f, err = load(src, "@" .. path, "t", sandbox)
    if not f then error("error loading module '" .. name .. "' from file '" .. path .. "':\n\t" .. err, 2) end
    m = f(name, path)
  end
  if m == nil then m = loaded[name] or true end
  -- With lua.codeCache off, modules from files are loaded again by every require.
  if cache_files or not from_file then loaded[name] = m end
  return m
end
`;

export interface RequireOptions {
  /** `lua.packagePath`: templates separated by `;`, `;;` standing for the default path. */
  packagePath: string | undefined;
  prefix: string;
  /** Keep modules loaded from files in package.loaded (lua.codeCache, default true). */
  cacheFiles?: boolean;
}

/** Resolves `packagePath` into absolute templates (`/srv/lua/?.lua`). */
export function packageTemplates(options: RequireOptions): string[] {
  const raw = options.packagePath ?? ';;';
  const expanded = raw.includes(';;') ? raw.replace(';;', `;${DEFAULT_PATH};`) : raw;
  return expanded
    .split(';')
    .filter((t) => t !== '')
    .map((t) => (isAbsolute(t) ? t : join(options.prefix, t)));
}

export function installRequire(ctx: RequestInstall, options: RequireOptions): void {
  const { vm } = ctx;
  const templates = packageTemplates(options);
  const find = vm.createFunction((call) => {
    const name = call.checkString(1).replace(/\./g, '/');
    let tried = '';
    for (const t of templates) {
      const path = t.replace(/\?/g, name);
      try {
        call.pushBytes(readFileSync(path));
        call.pushString(path);
        return 2;
      } catch {
        tried += `\n\tno file '${path}'`;
      }
    }
    call.pushNil();
    call.pushString(tried);
    return 2;
  }, 'require.find');
  vm.run(REQUIRE_LUA, 'ngx.require', vm.sandbox, ctx.preload, find, options.cacheFiles ?? true, templates.join(';'));
}
