// Compile errors as lua-nginx-module words them: `pcre_compile() failed: MSG in "PATTERN" at "REST"`,
// with PCRE 8's message texts (what OpenResty links) for PCRE2's error codes.

/** PCRE 8.x's text for each PCRE2 compile error code with a counterpart; others keep PCRE2's text. */
const PCRE8_TEXTS: Readonly<Record<number, string>> = {
  101: '\\ at end of pattern',
  102: '\\c at end of pattern',
  103: 'unrecognized character follows \\',
  104: 'numbers out of order in {} quantifier',
  105: 'number too big in {} quantifier',
  106: 'missing terminating ] for character class',
  107: 'invalid escape sequence in character class',
  108: 'range out of order in character class',
  109: 'nothing to repeat',
  110: 'internal error: unexpected repeat',
  111: 'unrecognized character after (? or (?-',
  112: 'POSIX named classes are supported only within a class',
  113: 'POSIX collating elements are not supported',
  114: 'missing )',
  115: 'reference to non-existent subpattern',
  117: 'unknown option bit(s) set',
  118: 'missing ) after comment',
  119: 'parentheses nested too deeply',
  120: 'regular expression is too large',
  121: 'failed to get memory',
  122: 'unmatched parentheses',
  123: 'internal error: code overflow',
  124: 'malformed number or name after (?(',
  125: 'lookbehind assertion is not fixed length',
  126: 'a numbered reference must not be zero',
  127: 'conditional group contains more than two branches',
  128: 'assertion expected after (?( or (?(?C)',
  129: 'digit expected after (?+',
  130: 'unknown POSIX class name',
  133: 'parentheses are too deeply nested (stack check)',
  134: 'character value in \\x{} or \\o{} is too large',
  135: 'lookbehind assertion is not fixed length',
  136: '\\C not allowed in lookbehind assertion',
  137: 'PCRE does not support \\L, \\l, \\N{name}, \\U, or \\u',
  138: 'number after (?C is > 255',
  139: 'closing ) for (?C expected',
  141: 'unrecognized character after (?P',
  142: 'syntax error in subpattern name (missing terminator)',
  143: 'two named subpatterns have the same name',
  144: 'group name must start with a non-digit',
  146: 'malformed \\P or \\p sequence',
  147: 'unknown property name after \\P or \\p',
  148: 'subpattern name is too long (maximum 32 characters)',
  149: 'too many named subpatterns (maximum 10000)',
  150: 'invalid range in character class',
  151: 'octal value is greater than \\377 in 8-bit non-UTF-8 mode',
  152: 'internal error: overran compiling workspace',
  153: 'internal error: previously-checked referenced subpattern not found',
  154: 'DEFINE group contains more than one branch',
  155: 'missing opening brace after \\o',
  157: '\\g is not followed by a braced, angle-bracketed, or quoted name/number or by a plain number',
  158: '(?R or (?[+-]digits must be followed by )',
  160: '(*VERB) not recognized or malformed',
  161: 'number is too big',
  162: 'subpattern name expected',
  164: 'non-octal character in \\o{} (closing brace missing?)',
  165: 'different names for subpatterns of the same number are not allowed',
  166: '(*MARK) must have an argument',
  167: 'non-hex character in \\x{} (closing brace missing?)',
  168: '\\c must be followed by an ASCII character',
  169: '\\k is not followed by a braced, angle-bracketed, or quoted name',
  171: '\\N is not supported in a class',
  173: 'disallowed Unicode code point (>= 0xd800 && <= 0xdfff)',
  176: 'name is too long in (*MARK), (*PRUNE), (*SKIP), or (*THEN)',
  177: 'character value in \\u.... sequence is too large',
  178: 'digits missing in \\x{} or \\o{}',
  186: 'regular expression is too complicated',
};

const isDigit = (b: number | undefined) => b !== undefined && b >= 0x30 && b <= 0x39;
const isNameChar = (b: number | undefined) =>
  b !== undefined && (isDigit(b) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b === 0x5f);

/** Where the group opening at or enclosing `from` (at `depth` levels out) closes: the index of its ")". */
function closingParen(p: Uint8Array, from: number, depth: number): number {
  let d = depth;
  for (let k = from; k < p.length; k++) {
    const b = p[k];
    if (b === 0x5c) k++; // an escaped character
    else if (b === 0x5b) {
      // a class: skip to its "]" (a "]" first in the class is a literal)
      k += p[k + 1] === 0x5e ? 2 : 1;
      if (p[k] === 0x5d) k++;
      while (k < p.length && p[k] !== 0x5d) k += p[k] === 0x5c ? 2 : 1;
    } else if (b === 0x28) d++;
    else if (b === 0x29 && --d === 0) return k;
  }
  return p.length;
}

/**
 * PCRE 8 reports some errors at another place than PCRE2 (and one with another code): the
 * error as OpenResty words it, for the cases observed to differ.
 */
export function pcre8Position(code: number, p: Uint8Array, offset: number): [number, number] {
  switch (code) {
    case 114: // "(?i" unterminated: PCRE 8 complains about the option letters
      return /\(\?[a-zA-Z^-]*$/.test(Buffer.from(p).toString('latin1')) ? [111, offset] : [code, offset];
    case 115: {
      // a missing group: a number is reported at the end of the pattern, a name after the name
      if (p[offset] === 0x28 && isDigit(p[offset + 1])) return [code, closingParen(p, offset, 0) + 1];
      if (isDigit(p[offset])) return [code, p.length];
      let k = offset;
      while (isNameChar(p[k])) k++;
      return [code, k];
    }
    case 125: // lookbehind: at the ")" closing it
    case 127: // conditional group: at its ")"
      return [code, closingParen(p, offset, 0)];
    case 154: // DEFINE: at the ")" of the enclosing conditional group
      return [code, closingParen(p, offset, 2)];
    case 129: // (?+a): after the sign
      return [code, offset + 1];
    case 137: // \L, \u...: at the letter
    case 143: // duplicate name: at the end of the name
      return [code, Math.max(0, offset - 1)];
    case 147: // \p{Foo}: at the "}"
      return [code, p[offset - 1] === 0x7d ? offset - 1 : offset];
    default:
      return [code, offset];
  }
}

/** lua-nginx-module's error buffer is 128 bytes with a NUL: longer messages are cut. */
const MAX_MESSAGE = 127;

/** The message text for a PCRE2 compile error code (negative codes: bad UTF-8 in the pattern). */
export function compileErrorText(code: number, pcre2Text: (code: number) => string): string {
  if (code < 0) return 'invalid UTF-8 string';
  return PCRE8_TEXTS[code] ?? pcre2Text(code);
}

/** `pcre_compile() failed: MSG in "PATTERN"`, plus ` at "REST"` unless the error is at the end; cut to 127 bytes. */
export function compileErrorMessage(text: string, pattern: Uint8Array, offset: number): Uint8Array {
  const parts = [Buffer.from(`pcre_compile() failed: ${text} in "`), pattern, Buffer.from('"')];
  if (offset < pattern.length) parts.push(Buffer.from(' at "'), pattern.subarray(offset), Buffer.from('"'));
  const all = Buffer.concat(parts);
  return all.subarray(0, Math.min(all.length, MAX_MESSAGE));
}
