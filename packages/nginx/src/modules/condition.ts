// `if (...)` conditions as nginx evaluates them: a variable (false when "" or "0"), `=` / `!=`,
// regex matches `~ ~* !~ !~*` (captures $1.. for what follows), file tests `-f -d -e -x` and `!`.

import { accessSync, constants, statSync } from 'node:fs';
import type { Ngx } from '@phasekit/core';
import { compileTemplate, pcre, type Captures, type Expand, type Locals } from './template.js';

/** Evaluates to whether the condition holds, and the captures of a regex match. */
export type Condition = (ngx: Ngx, captures: Captures) => { holds: boolean; captures?: readonly (string | undefined)[] };

/** Splits a condition string into nginx's words, honouring quotes (`$a = "b c"`). */
export function conditionWords(cond: string | readonly string[]): string[] {
  if (typeof cond !== 'string') return [...cond];
  const words: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|(\S+)/g;
  for (let m = re.exec(cond); m !== null; m = re.exec(cond)) words.push((m[1] ?? m[2] ?? m[3] ?? '').replace(/\\(["'\\])/g, '$1'));
  return words;
}

/** Compiles a condition; throws an Error with nginx's wording for a bad one. */
export function compileCondition(cond: string | readonly string[], locals?: Locals): Condition {
  const words = conditionWords(cond);
  const compile = (t: string) => compileTemplate(t, locals);
  if (words.length === 1) {
    const value = compile(words[0] as string);
    return (ngx, captures) => {
      const v = value(ngx, captures);
      return { holds: v !== '' && v !== '0' };
    };
  }
  if (words.length === 2) return fileTest(words[0] as string, compile(words[1] as string));
  const [left, op, right] = words as [string, string, string];
  const value = compile(left);
  switch (op) {
    case '=':
    case '!=': {
      const other = compile(right);
      const want = op === '=';
      return (ngx, captures) => ({ holds: (value(ngx, captures) === other(ngx, captures)) === want });
    }
    case '~':
    case '~*':
    case '!~':
    case '!~*': {
      let re: RegExp;
      try {
        re = pcre(right, op.endsWith('*'));
      } catch (err) {
        throw new Error(`pcre_compile() failed: ${(err as Error).message} in "${right}"`, { cause: err });
      }
      const negate = op.startsWith('!');
      return (ngx, captures) => {
        const m = re.exec(value(ngx, captures));
        if (negate) return { holds: m === null };
        return m === null ? { holds: false } : { holds: true, captures: [...m] };
      };
    }
    default:
      throw new Error(`unexpected "${op}" in condition`);
  }
}

function fileTest(op: string, path: Expand): Condition {
  const negate = op.startsWith('!');
  const test = negate ? op.slice(1) : op;
  let check: (p: string) => boolean;
  switch (test) {
    case '-f':
      check = (p) => statSync(p, { throwIfNoEntry: false })?.isFile() === true;
      break;
    case '-d':
      check = (p) => statSync(p, { throwIfNoEntry: false })?.isDirectory() === true;
      break;
    case '-e':
      check = (p) => statSync(p, { throwIfNoEntry: false }) !== undefined;
      break;
    case '-x':
      check = (p) => {
        try {
          accessSync(p, constants.X_OK);
          return true;
        } catch {
          return false;
        }
      };
      break;
    default:
      throw new Error(`invalid condition "${op}"`);
  }
  return (ngx, captures) => ({ holds: check(path(ngx, captures)) !== negate });
}
