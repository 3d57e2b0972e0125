// The bundled Lua modules (src/lualib/**.lua): LuaJIT's extensions and OpenResty's bundled
// libraries, written for phasekit. Each file is a `package.preload` entry named after its path
// (resty/lrucache.lua -> "resty.lrucache"); files under _init/ run once when the VM starts.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LuaRef } from './vm/index.js';
import type { RequestInstall } from './ngx/request.js';

/** src/lualib, also when running from dist/ (the package ships src/). */
function lualibDir(): string {
  const here = fileURLToPath(new URL('./lualib', import.meta.url));
  if (existsSync(here)) return here;
  return fileURLToPath(new URL('../src/lualib', import.meta.url));
}

interface Lualib {
  /** module name -> file (relative to the lualib folder, with "/") */
  readonly modules: ReadonlyMap<string, string>;
  /** _init/ files, in name order */
  readonly inits: readonly string[];
  readonly dir: string;
}

let cached: Lualib | undefined;
const sources = new Map<string, Buffer>();

function scan(): Lualib {
  if (cached !== undefined) return cached;
  const dir = lualibDir();
  const modules = new Map<string, string>();
  const inits: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = join(d, e.name);
      if (e.isDirectory()) walk(full);
      else if (e.name.endsWith('.lua')) {
        const rel = relative(dir, full).split(sep).join('/');
        if (rel.startsWith('_init/')) inits.push(rel);
        else modules.set(rel.slice(0, -4).replace(/\//g, '.'), rel);
      }
    }
  };
  walk(dir);
  cached = { modules, inits, dir };
  return cached;
}

function source(lib: Lualib, file: string): Buffer {
  let s = sources.get(file);
  if (s === undefined) {
    s = readFileSync(join(lib.dir, file));
    sources.set(file, s);
  }
  return s;
}

/** The names of the bundled modules (for docs and tests). */
export function lualibModules(): string[] {
  return [...scan().modules.keys()];
}

const LOADER_LUA = String.raw`
local preload, sandbox, native, source, names, files = ...
local load, error, trust = load, error, PHASEKIT_TRUST
local list = {}
for file in files:gmatch("[^\n]+") do list[#list + 1] = file end
local i = 0
for name in names:gmatch("[^\n]+") do
  i = i + 1
  local file = list[i]
  local chunkname = "@lualib/" .. file
  trust(chunkname)
  preload[name] = function()
    local f, err = load(source(file), chunkname, "t", sandbox)
    if not f then error(err, 2) end
    return f(name, native)
  end
end
`;

/**
 * Registers every bundled module in `package.preload` and runs the _init/ files (trusted, with
 * `...` = sandbox, preload, native). `native` holds the JS helpers the modules call.
 */
export function installLualib(ctx: RequestInstall, native: LuaRef): void {
  const { vm } = ctx;
  const lib = scan();
  const src = vm.createFunction((call) => {
    call.pushBytes(source(lib, call.checkString(1)));
    return 1;
  }, 'lualib.source');
  const names = [...lib.modules.keys()];
  const files = names.map((n) => lib.modules.get(n) ?? '');
  vm.run(LOADER_LUA, 'lualib.loader', ctx.preload, vm.sandbox, native, src, names.join('\n'), files.join('\n'));
  for (const file of lib.inits) {
    vm.run(source(lib, file), `lualib/${file}`, vm.sandbox, ctx.preload, native);
  }
}
