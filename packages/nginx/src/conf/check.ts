// Checks one directive against the table: known, allowed where it stands, right number of
// arguments. Ignored directives are noted once; unknown and unsupported ones are errors.

import { NginxConfError } from '../errors.js';
import { IGNORED, MAPPED, UNSUPPORTED, type Context } from './directives.js';
import type { Directive } from './parser.js';

/** A directive accepted without effect, noted once (its first place). */
export interface IgnoredDirective {
  readonly name: string;
  readonly file: string;
  readonly line: number;
  readonly note: string;
}

export function fail(d: Pick<Directive, 'file' | 'line'>, message: string): never {
  throw new NginxConfError(message, d.file, d.line);
}

/** The directive's argument values (quotes gone, escapes applied). */
export const argv = (d: Directive): string[] => d.args.map((a) => a.value);

/**
 * Returns true when the directive is to be mapped, false when it is ignored (and noted in
 * `ignored`); throws for an unknown or unsupported directive, a wrong place, wrong arguments.
 */
export function checkDirective(d: Directive, context: Context, ignored: Map<string, IgnoredDirective>): boolean {
  const note = IGNORED[d.name];
  if (note !== undefined) {
    if (d.block !== undefined || d.lua !== undefined) fail(d, `directive "${d.name}" has no opening "{"`);
    if (!ignored.has(d.name)) ignored.set(d.name, { name: d.name, file: d.file, line: d.line, note });
    return false;
  }
  const spec = MAPPED[d.name];
  if (spec === undefined) {
    if (UNSUPPORTED.has(d.name)) fail(d, `directive "${d.name}" is not supported by phasekit (it changes what nginx answers)`);
    fail(d, `unknown directive "${d.name}"`);
  }
  // `server` is a block in http and a peer line in upstream.
  const isBlock = d.block !== undefined || d.lua !== undefined;
  if (d.name === 'server') {
    if (context === 'upstream') {
      if (isBlock) fail(d, 'directive "server" has no opening "{"');
      if (d.args.length === 0) fail(d, 'invalid number of arguments in "server" directive');
      return true;
    }
    if (context !== 'http') fail(d, '"server" directive is not allowed here');
    if (d.block === undefined) fail(d, 'directive "server" has no opening "{"');
    if (d.args.length > 0) fail(d, 'invalid number of arguments in "server" directive');
    return true;
  }
  if (!spec.contexts.includes(context)) fail(d, `"${d.name}" directive is not allowed here`);
  if (spec.block === true && d.block === undefined) fail(d, `directive "${d.name}" has no opening "{"`);
  const luaBlock = d.name.endsWith('_by_lua_block');
  if (luaBlock && d.lua === undefined) fail(d, `directive "${d.name}" has no opening "{"`);
  if (!luaBlock && spec.block !== true && isBlock) fail(d, `directive "${d.name}" is not terminated by ";"`);
  const [min, max] = spec.args;
  if (d.args.length < min || d.args.length > max) fail(d, `invalid number of arguments in "${d.name}" directive`);
  return true;
}
