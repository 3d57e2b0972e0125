// ngx.re's option letters as PCRE2 options, and PCRE2's match errors as the PCRE 8 codes
// lua-nginx-module reports ("pcre_exec() failed: -8").

const PCRE2_ALLOW_EMPTY_CLASS = 0x00000001;
const PCRE2_ALT_BSUX = 0x00000002;
const PCRE2_CASELESS = 0x00000008;
const PCRE2_DOTALL = 0x00000020;
const PCRE2_DUPNAMES = 0x00000040;
const PCRE2_EXTENDED = 0x00000080;
const PCRE2_MATCH_UNSET_BACKREF = 0x00000200;
const PCRE2_MULTILINE = 0x00000400;
const PCRE2_UTF = 0x00080000;
const PCRE2_NO_UTF_CHECK = 0x40000000;
const PCRE2_ANCHORED = 0x80000000;

/** What an option string asks for. The Lua side has already refused unknown letters. */
export interface ReOptions {
  /** pcre2_compile options. */
  readonly compile: number;
  /** pcre2_match options. */
  readonly match: number;
  /** "o": keep the compiled pattern in the cache. */
  readonly once: boolean;
  /** "d": PCRE's DFA matcher (the longest match, no captures). */
  readonly dfa: boolean;
  /** "D": named captures collect every group of that name. */
  readonly dupnames: boolean;
}

/**
 * i m s x a D u U J d o j, as lua-resty-core maps them: "U" is UTF-8 without the validity check,
 * "J" is PCRE 8's JavaScript compatibility (PCRE2 splits it into three options), "j" (JIT) is
 * accepted and does nothing here.
 */
export function parseOptions(opts: string): ReOptions {
  let compile = 0;
  let match = 0;
  for (const c of opts) {
    if (c === 'i') compile |= PCRE2_CASELESS;
    else if (c === 'm') compile |= PCRE2_MULTILINE;
    else if (c === 's') compile |= PCRE2_DOTALL;
    else if (c === 'x') compile |= PCRE2_EXTENDED;
    else if (c === 'a') compile |= PCRE2_ANCHORED;
    else if (c === 'D') compile |= PCRE2_DUPNAMES;
    else if (c === 'u') compile |= PCRE2_UTF;
    else if (c === 'U') {
      compile |= PCRE2_UTF;
      match |= PCRE2_NO_UTF_CHECK;
    } else if (c === 'J') compile |= PCRE2_ALT_BSUX | PCRE2_MATCH_UNSET_BACKREF | PCRE2_ALLOW_EMPTY_CLASS;
  }
  return { compile: compile >>> 0, match: match >>> 0, once: opts.includes('o'), dfa: opts.includes('d'), dupnames: opts.includes('D') };
}

/** PCRE 8's codes for PCRE2's match errors; errors without a counterpart keep PCRE2's code. */
const EXEC_ERRORS = new Map<number, number>([
  [-33, -24], // bad offset (ctx.pos past the end)
  [-34, -3], // bad option
  [-36, -11], // start offset inside a UTF-8 character
  [-39, -20], // DFA recursion
  [-40, -17], // DFA: unsupported condition
  [-42, -16], // DFA: unsupported item (back references...)
  [-43, -19], // DFA workspace too small
  [-44, -14], // internal error
  [-47, -8], // match limit
  [-48, -6], // no memory
  [-52, -26], // recursion loop
  [-53, -21], // depth limit (PCRE 8's recursion limit)
  [-63, -27], // heap limit: like PCRE 8's JIT stack limit, the backtracking memory ran out
]);

/** The PCRE 8 code lua-nginx-module would report for a PCRE2 match error. */
export function execErrorCode(rc: number): number {
  if (rc <= -3 && rc >= -23) return -10; // invalid UTF-8 in the subject
  return EXEC_ERRORS.get(rc) ?? rc;
}
