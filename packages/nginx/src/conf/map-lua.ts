// `*_by_lua '...'`, `*_by_lua_block { ... }` and `*_by_lua_file path` → handler specs.

import type { HandlerSpec } from '@phasekit/core';
import type { RuleInput } from '../modules/schema.js';
import { argv, fail } from './check.js';
import type { Directive } from './parser.js';

const LUA_DIRECTIVE = /^(init|init_worker|exit_worker|set|rewrite|access|content|header_filter|body_filter|log|balancer|ssl_certificate)_by_lua(_block|_file)?$/;

/** The phase part of a Lua directive's name (`header_filter`), or undefined when it is not one. */
export function luaPhaseOf(name: string): string | undefined {
  return LUA_DIRECTIVE.exec(name)?.[1];
}

/** The handler a Lua directive gives (`set_by_lua*` not included: see setRule). */
export function luaSpec(d: Directive): HandlerSpec {
  if (d.lua !== undefined) return { lua: d.lua };
  const value = argv(d)[0] as string;
  if (d.name.endsWith('_file')) return { luaFile: filePath(d, value) };
  return { lua: value };
}

function filePath(d: Directive, path: string): string {
  if (path.includes('$')) fail(d, `"${d.name}": variables in the file path are not supported by phasekit`);
  return path;
}

/** `set_by_lua $var 'code' args...`, `set_by_lua_block $var { ... }`, `set_by_lua_file $var path args...`. */
export function setRule(d: Directive): RuleInput {
  const [target, source, ...args] = argv(d) as [string, ...string[]];
  if (!target.startsWith('$') || target.length < 2) fail(d, `invalid variable name "${target}"`);
  const set = target.slice(1);
  if (d.lua !== undefined) return { set, lua: d.lua };
  if (d.name.endsWith('_file')) return { set, luaFile: filePath(d, source as string), args };
  return { set, lua: source as string, args };
}
