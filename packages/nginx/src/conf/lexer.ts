// nginx's configuration tokens, as ngx_conf_read_token reads them: words (bare or quoted, with
// nginx's escapes), `;`, `{`, `}`, and `#` comments. A `*_by_lua_block` body is read raw by the
// Lua-aware reader in lua-block.ts, from where the lexer stands.

import { NginxConfError } from '../errors.js';
import { readLuaBlock } from './lua-block.js';

export interface Word {
  readonly kind: 'word';
  readonly value: string;
  /** Written in quotes: `""` is an empty word, `"$x"` is a word, and `if` tells `"a"` from `a`. */
  readonly quoted: boolean;
  readonly line: number;
}

export type Token = Word | { readonly kind: ';' | '{' | '}' | 'eof'; readonly line: number };

const isSpace = (c: string) => c === ' ' || c === '\t' || c === '\r' || c === '\n';

/** `\"`, `\'`, `\\` lose the backslash; `\t`, `\r`, `\n` become the character; others stay as written. */
export function unescape(raw: string): string {
  if (!raw.includes('\\')) return raw;
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i] as string;
    if (c === '\\' && i + 1 < raw.length) {
      const n = raw[i + 1] as string;
      if (n === '"' || n === "'" || n === '\\') {
        out += n;
        i++;
        continue;
      }
      if (n === 't' || n === 'r' || n === 'n') {
        out += n === 't' ? '\t' : n === 'r' ? '\r' : '\n';
        i++;
        continue;
      }
    }
    out += c;
  }
  return out;
}

export class Lexer {
  readonly #text: string;
  readonly #file: string;
  #pos = 0;
  #line = 1;

  constructor(text: string, file: string) {
    this.#text = text;
    this.#file = file;
  }

  get file(): string {
    return this.#file;
  }

  get line(): number {
    return this.#line;
  }

  fail(message: string, line = this.#line): never {
    throw new NginxConfError(message, this.#file, line);
  }

  #advance(): string {
    const c = this.#text[this.#pos++] as string;
    if (c === '\n') this.#line++;
    return c;
  }

  /** The next token; `}` and `;` are reported as they come (the parser checks where they may stand). */
  next(): Token {
    const text = this.#text;
    for (;;) {
      if (this.#pos >= text.length) return { kind: 'eof', line: this.#line };
      const c = text[this.#pos] as string;
      if (isSpace(c)) {
        this.#advance();
        continue;
      }
      if (c === '#') {
        while (this.#pos < text.length && text[this.#pos] !== '\n') this.#pos++;
        continue;
      }
      const line = this.#line;
      if (c === ';' || c === '{' || c === '}') {
        this.#advance();
        return { kind: c, line };
      }
      if (c === '"' || c === "'") return this.#quoted(c, line);
      return this.#bare(line);
    }
  }

  #quoted(quote: string, line: number): Word {
    const text = this.#text;
    this.#advance();
    const start = this.#pos;
    while (this.#pos < text.length) {
      const c = this.#advance();
      if (c === '\\' && this.#pos < text.length) {
        this.#advance();
        continue;
      }
      if (c === quote) {
        const raw = text.slice(start, this.#pos - 1);
        // After a closing quote nginx wants a space, ";", "{" or ")".
        const after = text[this.#pos];
        if (after !== undefined && !isSpace(after) && after !== ';' && after !== '{' && after !== ')') {
          this.fail(`unexpected "${after}"`);
        }
        return { kind: 'word', value: unescape(raw), quoted: true, line };
      }
    }
    return this.fail('unexpected end of file, expecting ";" or "}"');
  }

  #bare(line: number): Word {
    const text = this.#text;
    const start = this.#pos;
    let variable = false;
    while (this.#pos < text.length) {
      const c = text[this.#pos] as string;
      if (c === '{' && variable) {
        // `${name}` inside a word
        this.#pos++;
        continue;
      }
      variable = false;
      if (c === '\\' && this.#pos + 1 < text.length) {
        this.#advance();
        this.#advance();
        continue;
      }
      if (c === '$') {
        variable = true;
        this.#pos++;
        continue;
      }
      if (isSpace(c) || c === ';' || c === '{') break;
      this.#advance();
    }
    return { kind: 'word', value: unescape(text.slice(start, this.#pos)), quoted: false, line };
  }

  /**
   * Reads a `*_by_lua_block` body: the lexer stands just past its `{`. Returns the Lua source up
   * to the matching `}` (exclusive, as written: the first line of the code is the brace's line).
   */
  luaBlock(directive: string, line: number): string {
    const r = readLuaBlock(this.#text, this.#pos);
    if (r.end === -1) this.fail(`${directive}: ${r.error ?? 'unexpected end of file, expecting "}"'}`, line);
    const code = this.#text.slice(this.#pos, r.end);
    while (this.#pos <= r.end) this.#advance();
    return code;
  }
}
