// nginx.conf text → a tree of directives, each with its file and line. `include` is expanded where
// it stands (any context, as nginx), through the reader the caller gives (include.ts).

import { Lexer, type Word } from './lexer.js';

export interface Directive {
  readonly name: string;
  readonly args: readonly Word[];
  readonly file: string;
  readonly line: number;
  /** The directives of a `{ ... }` block (not for `*_by_lua_block`). */
  readonly block?: readonly Directive[];
  /** The Lua source of a `*_by_lua_block { ... }`. */
  readonly lua?: string;
}

/** Reads the files an `include` names (a path or a glob), relative to the conf prefix; in order. */
export type IncludeReader = (pattern: string, from: { file: string; line: number }) => { file: string; text: string }[];

const MAX_INCLUDE_DEPTH = 32;

/** Parses one file's text. `include` directives are replaced by the directives of the files they name. */
export function parseConf(text: string, file: string, include?: IncludeReader, depth = 0): Directive[] {
  const lexer = new Lexer(text, file);
  const out = parseBlock(lexer, include, depth, false);
  return out;
}

function parseBlock(lexer: Lexer, include: IncludeReader | undefined, depth: number, nested: boolean): Directive[] {
  const out: Directive[] = [];
  for (;;) {
    const t = lexer.next();
    if (t.kind === 'eof') {
      if (nested) lexer.fail('unexpected end of file, expecting "}"', t.line);
      return out;
    }
    if (t.kind === '}') {
      if (!nested) lexer.fail('unexpected "}"', t.line);
      return out;
    }
    if (t.kind !== 'word') lexer.fail(`unexpected "${t.kind}"`, t.line);
    const name = t.value;
    const line = t.line;
    const args: Word[] = [];
    for (;;) {
      const a = lexer.next();
      if (a.kind === 'word') {
        args.push(a);
        continue;
      }
      if (a.kind === ';') {
        if (name === 'include') out.push(...expandInclude(lexer, include, depth, args, line));
        else out.push({ name, args, file: lexer.file, line });
        break;
      }
      if (a.kind === '{') {
        if (name.endsWith('_by_lua_block')) out.push({ name, args, file: lexer.file, line, lua: lexer.luaBlock(name, line) });
        else out.push({ name, args, file: lexer.file, line, block: parseBlock(lexer, include, depth, true) });
        break;
      }
      if (a.kind === '}') lexer.fail('unexpected "}"', a.line);
      lexer.fail('unexpected end of file, expecting ";" or "}"', a.line);
    }
  }
}

function expandInclude(lexer: Lexer, include: IncludeReader | undefined, depth: number, args: readonly Word[], line: number): Directive[] {
  if (args.length !== 1) lexer.fail('invalid number of arguments in "include" directive', line);
  if (include === undefined) lexer.fail('"include" is not allowed here (no file to read from)', line);
  if (depth >= MAX_INCLUDE_DEPTH) lexer.fail(`"include" nested more than ${MAX_INCLUDE_DEPTH} deep (a loop?)`, line);
  const pattern = (args[0] as Word).value;
  return include(pattern, { file: lexer.file, line }).flatMap((f) => parseConf(f.text, f.file, include, depth + 1));
}
