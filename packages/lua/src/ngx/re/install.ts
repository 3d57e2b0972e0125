// Installs ngx.re.* and `package.preload["ngx.re"]` on one VM: one PCRE2 engine and its caches
// per installation.

import type { NgxInstall } from '../install.js';
import { DEFAULT_CACHE_MAX_ENTRIES, DEFAULT_MATCH_LIMIT, Regexes, type RegexSettings } from './compiled.js';
import { createExec } from './exec.js';
import { createGsub } from './gsub.js';
import { RE_LUA } from './lua-source.js';

export interface ReInstallOptions {
  /**
   * Steps one start position of a search may take (lua_regex_match_limit); 0 = PCRE's default,
   * 10,000,000. Default: 1,000,000 (see docs/lua-utilities.md).
   */
  readonly matchLimit?: number;
  /** Compiled patterns kept for the "o" option (lua_regex_cache_max_entries); default 1024. */
  readonly cacheMaxEntries?: number;
  /** How long one sub/gsub call into JS runs before handing back to Lua, ms (tests). */
  readonly gsubSliceMs?: number;
}

/** What the installation exposes to tests. */
export interface ReInstallation {
  readonly regexes: Regexes;
}

export function installRe(ctx: NgxInstall, options: ReInstallOptions = {}): ReInstallation {
  const { vm } = ctx;
  const settings: RegexSettings = {
    matchLimit: options.matchLimit ?? DEFAULT_MATCH_LIMIT,
    cacheMaxEntries: options.cacheMaxEntries ?? DEFAULT_CACHE_MAX_ENTRIES,
  };
  const regexes = new Regexes(settings);
  const exec = vm.createFunction(createExec(regexes), 'ngx.re');
  const gsub = vm.createFunction(createGsub(regexes, options.gsubSliceMs), 'ngx.re.gsub');
  // js_opt("match_limit", n) sets the limit; js_opt("cache_empty") → no "o" pattern was ever cached
  const opt = vm.createFunction((call) => {
    if (call.string(1) === 'match_limit') {
      regexes.setMatchLimit(call.number(2) ?? 0);
      return 0;
    }
    call.pushBoolean(!regexes.onceUsed);
    return 1;
  }, 'ngx.re.opt');

  const reTable = vm.newTable();
  vm.setField(ctx.ngx, 're', reTable);
  const [mod] = vm.run(RE_LUA, 'ngx.re', ctx.ngx, exec, gsub, opt);
  vm.run('local preload, mod = ... preload["ngx.re"] = function() return mod end', 'ngx.re', ctx.preload, mod ?? null);
  if (mod !== undefined && mod !== null && typeof mod === 'object' && 'release' in mod) mod.release();
  reTable.release();
  exec.release();
  gsub.release();
  opt.release();
  return { regexes };
}
