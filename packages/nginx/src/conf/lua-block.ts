// The Lua-aware reader of `*_by_lua_block { ... }` bodies: braces inside Lua strings, long
// brackets and comments do not count, as lua-nginx-module reads them.

export interface LuaBlockEnd {
  /** Index of the `}` that closes the block, or -1. */
  readonly end: number;
  /** Why the block did not end, when end is -1. */
  readonly error?: string;
}

/** `[[`, `[=[`, ...: the level of a long bracket opening at `i`, or -1. */
function longBracketLevel(text: string, i: number): number {
  if (text[i] !== '[') return -1;
  let j = i + 1;
  while (text[j] === '=') j++;
  return text[j] === '[' ? j - i - 1 : -1;
}

/** Index just past the `]=*]` closing a long bracket of `level` opened before `from`, or -1. */
function closeLongBracket(text: string, from: number, level: number): number {
  const close = `]${'='.repeat(level)}]`;
  const at = text.indexOf(close, from);
  return at === -1 ? -1 : at + close.length;
}

/** Index just past a quoted Lua string starting at `i` (its quote), or -1 when unfinished. */
function skipString(text: string, i: number): number {
  const quote = text[i];
  for (let j = i + 1; j < text.length; j++) {
    const c = text[j];
    if (c === '\\') {
      j++;
      continue;
    }
    if (c === quote) return j + 1;
    if (c === '\n') return -1;
  }
  return -1;
}

/** Scans Lua source from `start` (just past the block's `{`) to the `}` that closes the block. */
export function readLuaBlock(text: string, start: number): LuaBlockEnd {
  let depth = 1;
  let i = start;
  while (i < text.length) {
    const c = text[i];
    if (c === '-' && text[i + 1] === '-') {
      const level = longBracketLevel(text, i + 2);
      if (level >= 0) {
        i = closeLongBracket(text, i + level + 4, level);
        if (i === -1) return { end: -1, error: 'Lua code: unfinished long comment' };
      } else {
        const nl = text.indexOf('\n', i);
        i = nl === -1 ? text.length : nl + 1;
      }
      continue;
    }
    if (c === '[') {
      const level = longBracketLevel(text, i);
      if (level >= 0) {
        i = closeLongBracket(text, i + level + 2, level);
        if (i === -1) return { end: -1, error: 'Lua code: unfinished long string' };
        continue;
      }
    }
    if (c === '"' || c === "'") {
      i = skipString(text, i);
      if (i === -1) return { end: -1, error: 'Lua code: unfinished string' };
      continue;
    }
    if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return { end: i };
    i++;
  }
  return { end: -1, error: 'Lua code: unexpected end of file, expecting "}"' };
}
