// ngx.re.match/find/gmatch/sub/gsub and the "ngx.re" module (split, opt) on JS RegExp, with PCRE's syntax, byte offsets and errors.

import type { LuaCall } from '../vm/index.js';
import type { NgxInstall } from './install.js';

/**
 * How subjects reach the JS RegExp. Without the "u" option PCRE works on bytes: each byte becomes one
 * UTF-16 unit (0x00-0x7f as is, 0x80-0xff as U+E080-U+E0FF, private-use characters that have no case
 * and are in no class such as \s or \w), so string indices are byte offsets and case folding, \s and
 * "." behave as PCRE does on bytes. With "u" the subject is decoded as UTF-8 and offsets are mapped back.
 */
const HIGH_BYTE_BASE = 0xe000;

interface Translated {
  /** JS source for `new RegExp(source, flags)`, always with the "u" flag. */
  readonly source: string;
  readonly flags: string;
  /** Number of PCRE capture groups. PCRE group n is the JS named group `g<n>`. */
  readonly ncap: number;
  /** [name, group number] in PCRE's name-table order (sorted by name). */
  readonly names: readonly (readonly [string, number])[];
}

class PcreError extends Error {
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(message);
    this.offset = offset;
  }
}

interface TranslateOptions {
  caseless: boolean;
  dotall: boolean;
  multiline: boolean;
  extended: boolean;
  utf8: boolean;
  anchored: boolean;
  dupnames: boolean;
}

const SYNTAX = new Set('^$\\.*+?()[]{}|/'.split(''));
const WS_EXTENDED = new Set([' ', '\t', '\n', '\v', '\f', '\r']);
const PCRE_SPACE = '\\t\\n\\v\\f\\r ';

const POSIX: Record<string, string> = {
  alpha: 'a-zA-Z',
  digit: '0-9',
  alnum: 'a-zA-Z0-9',
  upper: 'A-Z',
  lower: 'a-z',
  space: PCRE_SPACE,
  blank: ' \\t',
  punct: '!-\\/:-@\\[-`{-~',
  xdigit: '0-9A-Fa-f',
  word: '\\w',
  cntrl: '\\x00-\\x1f\\x7f',
  print: ' -~',
  graph: '!-~',
  ascii: '\\x00-\\x7f',
};

const GENERAL_CATEGORIES = new Set([
  'C', 'Cc', 'Cf', 'Cn', 'Co', 'Cs', 'L', 'Ll', 'Lm', 'Lo', 'Lt', 'Lu', 'M', 'Mc', 'Me', 'Mn', 'N', 'Nd', 'Nl', 'No',
  'P', 'Pc', 'Pd', 'Pe', 'Pf', 'Pi', 'Po', 'Ps', 'S', 'Sc', 'Sk', 'Sm', 'So', 'Z', 'Zl', 'Zp', 'Zs',
]);

/** A code unit as a JS regex escape (always valid with the "u" flag, in and out of classes). */
function esc(cp: number): string {
  return `\\u{${cp.toString(16)}}`;
}

/** The code unit a PCRE character value stands for in the subject string (see HIGH_BYTE_BASE). */
function unitFor(cp: number, utf8: boolean): number {
  return !utf8 && cp >= 0x80 ? HIGH_BYTE_BASE + cp : cp;
}

interface Frame {
  dotall: boolean;
  multiline: boolean;
  extended: boolean;
  /** Text to emit when the group closes. */
  close: string;
  /** Output index where the group's text begins (for quantifiers on the whole group). */
  start: number;
  /** Capturing group number, or 0. */
  cap: number;
}

/**
 * Translates `pattern` (code units: bytes as HIGH_BYTE_BASE-mapped units without UTF-8, else the decoded
 * string) to a JS RegExp source. Throws PcreError(message, unit offset) with PCRE1's texts.
 */
function translatePcre(pattern: string, opts: TranslateOptions): Translated {
  const { utf8 } = opts;
  const len = pattern.length;
  let out = '';
  let i = 0;
  let caseless = opts.caseless;
  let sticky = opts.anchored;
  let ncap = 0;
  let atomics = 0;
  const names: [string, number][] = [];
  const backrefs: { num?: number; name?: string; offset: number }[] = [];
  const stack: Frame[] = [];
  let cur: Frame = { dotall: opts.dotall, multiline: opts.multiline, extended: opts.extended, close: '', start: 0, cap: 0 };
  // Start (in `out`) of the last thing a quantifier may apply to; -1 = nothing repeatable.
  let atomStart = -1;
  let atomIsAssertion = false;

  const fail = (msg: string, at: number): never => {
    throw new PcreError(msg, at);
  };
  const cpAt = (k: number): number => pattern.codePointAt(k) ?? 0;
  /** PCRE character value of the unit at k (high bytes back to 0x80-0xff). */
  const valueAt = (k: number): number => {
    const c = cpAt(k);
    return !utf8 && c >= HIGH_BYTE_BASE + 0x80 && c <= HIGH_BYTE_BASE + 0xff ? c - HIGH_BYTE_BASE : c;
  };
  const unitLen = (k: number): number => (cpAt(k) > 0xffff ? 2 : 1);
  const isDigit = (ch: string | undefined) => ch !== undefined && ch >= '0' && ch <= '9';

  // Simple assertions (^ $ \b \A ...) are not repeatable in PCRE ("nothing to repeat")
  const emitAtom = (text: string, assertion = false) => {
    atomStart = assertion ? -1 : out.length;
    atomIsAssertion = false;
    out += text;
  };
  const literal = (cp: number) => {
    const u = unitFor(cp, utf8);
    const ch = String.fromCodePoint(u);
    return u < 0x80 && SYNTAX.has(ch) ? '\\' + ch : u >= 0x20 && u < 0x7f ? ch : esc(u);
  };

  /** A class body (no brackets) of the high bytes 0x80-0xff whose Latin-1 character passes `test`. */
  const highBytes = (test: RegExp): string => {
    let s = '';
    for (let b = 0x80; b <= 0xff; b++) if (test.test(String.fromCharCode(b))) s += esc(HIGH_BYTE_BASE + b);
    return s;
  };

  /** \p / \P: the class body, and whether it is negated. */
  const property = (k: number): [string, boolean, number] => {
    const neg = pattern[k] === 'P';
    let name: string;
    let end: number;
    if (pattern[k + 1] === '{') {
      const close = pattern.indexOf('}', k + 2);
      if (close < 0) fail('malformed \\P or \\p sequence', k + 2);
      name = pattern.slice(k + 2, close);
      end = close + 1;
    } else {
      name = pattern[k + 1] ?? '';
      end = k + 2;
    }
    let negated = neg;
    if (name.startsWith('^')) {
      negated = !negated;
      name = name.slice(1);
    }
    let js: string;
    if (name === 'Any') js = '\\s\\S';
    else if (name === 'L&') js = '\\p{Lu}\\p{Ll}\\p{Lt}';
    else if (GENERAL_CATEGORIES.has(name)) js = `\\p{${name}}`;
    else {
      try {
        new RegExp(`\\p{Script=${name}}`, 'u');
      } catch {
        return fail('unknown property name after \\P or \\p', end - 1);
      }
      js = `\\p{Script=${name}}`;
    }
    if (!utf8) {
      // PCRE without UTF-8 tests a byte as the Latin-1 character of that value
      const re = new RegExp(`[${js}]`, 'u');
      let ascii = '';
      for (let b = 0; b < 0x80; b++) if (re.test(String.fromCharCode(b))) ascii += esc(b);
      js = ascii + highBytes(re);
    }
    return [js, negated, end];
  };

  /**
   * One escape at pattern[k] == '\\'. Returns [class body or single-char text, kind, next index]:
   * kind 'char' (value in `cp`), 'class' (a class body usable inside [...]), 'other' (only outside classes).
   */
  type Escaped = { kind: 'char'; cp: number; next: number } | { kind: 'class'; body: string; negated: boolean; next: number } | { kind: 'other'; text: string; next: number; assertion?: boolean };
  const escape = (k: number, inClass: boolean): Escaped => {
    if (k + 1 >= len) fail('\\ at end of pattern', len);
    const c = pattern[k + 1] as string;
    switch (c) {
      case 'd':
      case 'D':
      case 'w':
      case 'W':
        return { kind: 'class', body: c.toLowerCase() === 'd' ? '0-9' : '\\w', negated: c === c.toUpperCase(), next: k + 2 };
      case 's':
      case 'S':
        return { kind: 'class', body: PCRE_SPACE, negated: c === 'S', next: k + 2 };
      case 'h':
      case 'H':
        return { kind: 'class', body: utf8 ? '\\t \\u00a0\\u1680\\u180e\\u2000-\\u200a\\u202f\\u205f\\u3000' : '\\t ' + esc(HIGH_BYTE_BASE + 0xa0), negated: c === 'H', next: k + 2 };
      case 'v':
      case 'V':
        return { kind: 'class', body: utf8 ? '\\n\\v\\f\\r\\x85\\u2028\\u2029' : '\\n\\v\\f\\r' + esc(HIGH_BYTE_BASE + 0x85), negated: c === 'V', next: k + 2 };
      case 'p':
      case 'P': {
        const [body, negated, next] = property(k + 1);
        return { kind: 'class', body, negated, next };
      }
      case 'n':
        return { kind: 'char', cp: 10, next: k + 2 };
      case 't':
        return { kind: 'char', cp: 9, next: k + 2 };
      case 'r':
        return { kind: 'char', cp: 13, next: k + 2 };
      case 'f':
        return { kind: 'char', cp: 12, next: k + 2 };
      case 'e':
        return { kind: 'char', cp: 27, next: k + 2 };
      case 'a':
        return { kind: 'char', cp: 7, next: k + 2 };
      case 'b':
        if (inClass) return { kind: 'char', cp: 8, next: k + 2 };
        return { kind: 'other', text: '\\b', next: k + 2, assertion: true };
      case 'c': {
        if (k + 2 >= len) fail('\\c at end of pattern', len);
        return { kind: 'char', cp: (pattern.charCodeAt(k + 2) & 0xdf) ^ 0x40, next: k + 3 };
      }
      case 'x': {
        if (pattern[k + 2] === '{') {
          const close = pattern.indexOf('}', k + 3);
          const hex = close < 0 ? '' : pattern.slice(k + 3, close);
          if (close > 0 && /^[0-9a-fA-F]+$/.test(hex)) {
            const v = parseInt(hex, 16);
            if (v > (utf8 ? 0x10ffff : 0xff)) fail('character value in \\x{} or \\o{} is too large', close);
            return { kind: 'char', cp: v, next: close + 1 };
          }
          return { kind: 'char', cp: 0, next: k + 2 };
        }
        const m = /^[0-9a-fA-F]{0,2}/.exec(pattern.slice(k + 2, k + 4)) as RegExpExecArray;
        return { kind: 'char', cp: m[0] === '' ? 0 : parseInt(m[0], 16), next: k + 2 + m[0].length };
      }
      case 'o': {
        const close = pattern.indexOf('}', k + 3);
        const oct = pattern[k + 2] === '{' && close > 0 ? pattern.slice(k + 3, close) : '';
        if (!/^[0-7]+$/.test(oct)) fail('missing opening brace after \\o', k + 2);
        const v = parseInt(oct, 8);
        if (v > (utf8 ? 0x10ffff : 0xff)) fail('character value in \\x{} or \\o{} is too large', close);
        return { kind: 'char', cp: v, next: close + 1 };
      }
      case '0': {
        const m = /^[0-7]{0,2}/.exec(pattern.slice(k + 2, k + 4)) as RegExpExecArray;
        return { kind: 'char', cp: m[0] === '' ? 0 : parseInt(m[0], 8), next: k + 2 + m[0].length };
      }
      default:
        break;
    }
    if (c >= '1' && c <= '9') {
      const digits = (/^[0-9]+/.exec(pattern.slice(k + 1)) as RegExpExecArray)[0];
      const n = parseInt(digits, 10);
      // PCRE: \1-\9, or a number not above the groups opened so far, is a back reference; else octal
      if (!inClass && (n < 10 || n <= ncap)) {
        backrefs.push({ num: n, offset: len });
        return { kind: 'other', text: `\\k<g${n}>`, next: k + 1 + digits.length };
      }
      const oct = (/^[0-7]{1,3}/.exec(digits) ?? [''])[0];
      if (oct === '') return { kind: 'char', cp: c.charCodeAt(0), next: k + 2 };
      return { kind: 'char', cp: parseInt(oct, 8) & 0xff, next: k + 1 + oct.length };
    }
    if (!inClass) {
      switch (c) {
        case 'A':
          return { kind: 'other', text: '(?<![\\s\\S])', next: k + 2, assertion: true };
        case 'z':
          return { kind: 'other', text: '(?![\\s\\S])', next: k + 2, assertion: true };
        case 'Z':
          return { kind: 'other', text: '(?=\\n?(?![\\s\\S]))', next: k + 2, assertion: true };
        case 'B':
          return { kind: 'other', text: '\\B', next: k + 2, assertion: true };
        case 'G':
          if (out === '') {
            sticky = true;
            return { kind: 'other', text: '', next: k + 2, assertion: true };
          }
          return fail('\\G is only supported at the start of the pattern (JS RegExp)', k + 1);
        case 'R':
          return { kind: 'other', text: utf8 ? '(?:\\r\\n|[\\n\\v\\f\\r\\x85\\u2028\\u2029])' : `(?:\\r\\n|[\\n\\v\\f\\r${esc(HIGH_BYTE_BASE + 0x85)}])`, next: k + 2 };
        case 'N':
          return { kind: 'other', text: '[^\\n]', next: k + 2 };
        case 'X':
          return { kind: 'other', text: utf8 ? '(?:\\P{M}\\p{M}*)' : '[\\s\\S]', next: k + 2 };
        case 'C':
          return { kind: 'other', text: '[\\s\\S]', next: k + 2 };
        case 'K':
          return fail('\\K is not supported (JS RegExp)', k + 1);
        case 'g':
        case 'k': {
          const rest = pattern.slice(k + 2);
          const m = /^(?:\{(-?[0-9]+|[A-Za-z_][A-Za-z0-9_]*)\}|<([A-Za-z_][A-Za-z0-9_]*)>|'([A-Za-z_][A-Za-z0-9_]*)'|(-?[0-9]+))/.exec(rest);
          if (m === null || (c === 'k' && m[4] !== undefined)) {
            return fail(c === 'k' ? '\\k is not followed by a braced, angle-bracketed, or quoted name' : 'a numbered reference must not be zero', k + 2);
          }
          const ref = (m[1] ?? m[2] ?? m[3] ?? m[4]) as string;
          const next = k + 2 + m[0].length;
          if (/^-?[0-9]+$/.test(ref)) {
            let n = parseInt(ref, 10);
            if (n < 0) n = ncap + 1 + n;
            if (n <= 0) fail('a numbered reference must not be zero', next - 1);
            backrefs.push({ num: n, offset: len });
            return { kind: 'other', text: `\\k<g${n}>`, next };
          }
          backrefs.push({ name: ref, offset: next - 1 });
          return { kind: 'other', text: `\u0000${ref}\u0000`, next };
        }
        case 'Q': {
          const end = pattern.indexOf('\\E', k + 2);
          const text = pattern.slice(k + 2, end < 0 ? len : end);
          let lit = '';
          for (let j = 0; j < text.length; j += unitLen(k + 2 + j)) lit += literal(valueAt(k + 2 + j));
          return { kind: 'other', text: lit === '' ? '' : `(?:${lit})`, next: end < 0 ? len : end + 2 };
        }
        case 'E':
          return { kind: 'other', text: '', next: k + 2, assertion: true };
        default:
          break;
      }
    }
    // PCRE1 takes any other escaped character literally (\q is "q", \- is "-")
    return { kind: 'char', cp: valueAt(k + 1), next: k + 1 + unitLen(k + 1) };
  };

  const parseClass = (k: number): number => {
    // k is at '['
    let j = k + 1;
    let negated = false;
    if (pattern[j] === '^') {
      negated = true;
      j++;
    }
    let body = '';
    let first = true;
    while (true) {
      if (j >= len) fail('missing terminating ] for character class', len);
      const ch = pattern[j] as string;
      if (ch === ']' && !first) break;
      first = false;
      if (ch === '[' && pattern[j + 1] === ':') {
        const close = pattern.indexOf(':]', j + 2);
        if (close > 0) {
          let name = pattern.slice(j + 2, close);
          const neg = name.startsWith('^');
          if (neg) name = name.slice(1);
          const set = POSIX[name];
          if (set === undefined) fail('unknown POSIX class name', j + 2);
          if (neg) {
            // a negated POSIX class inside a class: spell out the complement over the ASCII range
            const re = new RegExp(`[${set}]`, 'u');
            for (let b = 0; b < 0x80; b++) if (!re.test(String.fromCharCode(b))) body += esc(b);
            body += utf8 ? '\\u{80}-\\u{10ffff}' : `${esc(HIGH_BYTE_BASE + 0x80)}-${esc(HIGH_BYTE_BASE + 0xff)}`;
          } else body += set;
          j = close + 2;
          continue;
        }
      }
      let cp: number;
      if (ch === '\\') {
        const e = escape(j, true);
        j = e.next;
        if (e.kind === 'class') {
          if (e.negated) {
            if (e.body === PCRE_SPACE) body += `\\x00-\\x08\\x0e-\\x1f\\x21-\\u{10ffff}`;
            else if (e.body === '0-9') body += '\\D';
            else if (e.body === '\\w') body += '\\W';
            else fail('negated \\p, \\h or \\v inside a character class is not supported (JS RegExp)', j - 1);
          } else body += e.body;
          continue;
        }
        if (e.kind === 'other') {
          body += e.text;
          continue;
        }
        cp = e.cp;
      } else {
        cp = valueAt(j);
        j += unitLen(j);
      }
      // a range?
      if (pattern[j] === '-' && pattern[j + 1] !== ']' && j + 1 < len) {
        let k2 = j + 1;
        let hi: number;
        if (pattern[k2] === '\\') {
          const e = escape(k2, true);
          if (e.kind !== 'char') {
            // "a-\d": '-' is a literal
            body += esc(unitFor(cp, utf8)) + '\\-';
              j = k2;
            continue;
          }
          hi = e.cp;
          k2 = e.next;
        } else if (pattern[k2] === '[' && pattern[k2 + 1] === ':') {
          body += esc(unitFor(cp, utf8)) + '\\-';
          j = k2;
          continue;
        } else {
          hi = valueAt(k2);
          k2 += unitLen(k2);
        }
        if (hi < cp) fail('range out of order in character class', k2 - 1);
        const lo = unitFor(cp, utf8);
        const up = unitFor(hi, utf8);
        if (!utf8 && cp < 0x80 && hi >= 0x80) body += `${esc(lo)}-\\x7f${esc(HIGH_BYTE_BASE + 0x80)}-${esc(up)}`;
        else body += `${esc(lo)}-${esc(up)}`;
        j = k2;
        continue;
      }
      body += esc(unitFor(cp, utf8));
    }
    emitAtom(body === '' && !negated ? '(?!)' : `[${negated ? '^' : ''}${body}]`);
    return j + 1;
  };

  const readName = (k: number, terminator: string): [string, number] => {
    let j = k;
    while (j < len && /[A-Za-z0-9_]/.test(pattern[j] as string)) j++;
    const name = pattern.slice(k, j);
    if (name === '') fail('group name expected', k);
    if (isDigit(name[0])) fail('group name must start with a non-digit', k);
    if (pattern[j] !== terminator) fail('syntax error in subpattern name (missing terminator)', j);
    return [name, j];
  };

  const openGroup = (text: string, close: string, cap: number, flags?: Partial<Frame>) => {
    stack.push(cur);
    const start = out.length;
    out += text;
    cur = { dotall: cur.dotall, multiline: cur.multiline, extended: cur.extended, ...flags, close, start, cap };
    atomStart = -1;
  };

  /** (?imsx-imsx) or (?imsx-imsx: at k (after "(?"); returns the next index. */
  const flagGroup = (k: number, groupStart: number): number => {
    let j = k;
    let on = true;
    const set: Partial<Record<'i' | 'm' | 's' | 'x', boolean>> = {};
    while (j < len && pattern[j] !== ')' && pattern[j] !== ':') {
      const f = pattern[j] as string;
      if (f === '-') on = false;
      else if (f === 'i' || f === 'm' || f === 's' || f === 'x') set[f] = on;
      else if (f !== 'J' && f !== 'U' && f !== 'X') fail('unrecognized character after (? or (?-', j);
      j++;
    }
    if (j >= len) fail('unrecognized character after (? or (?-', len);
    if (set.i !== undefined && set.i !== caseless) {
      // JS (Node 20) has no inline modifiers: only a leading (?i) can become the "i" flag
      if (out === '' && stack.length === 0 && pattern[j] === ')') caseless = set.i;
      else fail('(?i) is only supported at the start of the pattern (JS RegExp)', groupStart);
    }
    const flags: Partial<Frame> = {};
    if (set.m !== undefined) flags.multiline = set.m;
    if (set.s !== undefined) flags.dotall = set.s;
    if (set.x !== undefined) flags.extended = set.x;
    if (pattern[j] === ')') {
      Object.assign(cur, flags);
      return j + 1;
    }
    openGroup('(?:', ')', 0, flags);
    return j + 1;
  };

  while (i < len) {
    const ch = pattern[i] as string;
    if (cur.extended) {
      if (WS_EXTENDED.has(ch)) {
        i++;
        continue;
      }
      if (ch === '#') {
        const nl = pattern.indexOf('\n', i);
        i = nl < 0 ? len : nl + 1;
        continue;
      }
    }
    switch (ch) {
      case '\\': {
        const e = escape(i, false);
        if (e.kind === 'char') emitAtom(literal(e.cp));
        else if (e.kind === 'class') emitAtom(`[${e.negated ? '^' : ''}${e.body}]`);
        else if (e.text !== '') emitAtom(e.text, e.assertion === true);
        i = e.next;
        continue;
      }
      case '.':
        emitAtom(cur.dotall ? '[\\s\\S]' : '[^\\n]');
        i++;
        continue;
      case '^':
        emitAtom(cur.multiline ? '(?:(?<![\\s\\S])|(?<=\\n)(?=[\\s\\S]))' : '(?<![\\s\\S])', true);
        i++;
        continue;
      case '$':
        emitAtom(cur.multiline ? '(?=\\n|(?![\\s\\S]))' : '(?=\\n?(?![\\s\\S]))', true);
        i++;
        continue;
      case '[':
        i = parseClass(i);
        continue;
      case '|':
        out += '|';
        atomStart = -1;
        i++;
        continue;
      case ')': {
        if (stack.length === 0) fail('unmatched parentheses', i);
        const frame = cur;
        out += frame.close;
        cur = stack.pop() as Frame;
        atomStart = frame.start;
        // JS refuses a quantifier right after a lookaround; PCRE allows it
        atomIsAssertion = /^\(\?<?[=!]/.test(out.slice(frame.start, frame.start + 4));
        i++;
        continue;
      }
      case '(': {
        const groupStart = i;
        if (pattern[i + 1] === '*') fail('(*VERB) is not supported (JS RegExp)', i + 1);
        if (pattern[i + 1] !== '?') {
          ncap++;
          openGroup(`(?<g${ncap}>`, ')', ncap);
          i++;
          continue;
        }
        const c2 = pattern[i + 2];
        const c3 = pattern[i + 3];
        if (c2 === '#') {
          const close = pattern.indexOf(')', i + 3);
          if (close < 0) fail('missing ) after comment', len);
          i = close + 1;
          continue;
        }
        if (c2 === ':') {
          openGroup('(?:', ')', 0);
          i += 3;
        } else if (c2 === '=' || c2 === '!') {
          openGroup(`(?${c2}`, ')', 0);
          i += 3;
        } else if (c2 === '<' && (c3 === '=' || c3 === '!')) {
          openGroup(`(?<${c3}`, ')', 0);
          i += 4;
        } else if (c2 === '>') {
          atomics++;
          openGroup(`(?=(?<a${atomics}>`, `))\\k<a${atomics}>`, 0);
          i += 3;
        } else if (c2 === '<' || c2 === "'" || (c2 === 'P' && c3 === '<')) {
          const nameStart = c2 === 'P' ? i + 4 : i + 3;
          const [name, end] = readName(nameStart, c2 === "'" ? "'" : '>');
          if (!opts.dupnames && names.some(([n]) => n === name)) fail('two named subpatterns have the same name', end);
          ncap++;
          names.push([name, ncap]);
          openGroup(`(?<g${ncap}>`, ')', ncap);
          i = end + 1;
        } else if (c2 === 'P' && c3 === '=') {
          const [name, end] = readName(i + 4, ')');
          backrefs.push({ name, offset: end });
          emitAtom(`\u0000${name}\u0000`);
          i = end + 1;
        } else if (c2 === 'R' || c2 === '&' || (c2 === 'P' && c3 === '>') || isDigit(c2) || c2 === '+' || (c2 === '-' && isDigit(c3))) {
          fail('recursion and subroutine calls are not supported (JS RegExp)', i + 2);
        } else if (c2 === '(') {
          fail('conditional groups are not supported (JS RegExp)', i + 2);
        } else if (c2 === '|') {
          fail('branch reset groups are not supported (JS RegExp)', i + 2);
        } else if (c2 === 'C') {
          fail('callouts are not supported (JS RegExp)', i + 2);
        } else {
          i = flagGroup(i + 2, groupStart);
        }
        continue;
      }
      case '*':
      case '+':
      case '?':
      case '{': {
        let q: string;
        let j: number;
        if (ch === '{') {
          const m = /^\{([0-9]+)(?:(,)([0-9]*))?\}/.exec(pattern.slice(i));
          if (m === null) {
            emitAtom('\\{');
            i++;
            continue;
          }
          const close = i + m[0].length - 1;
          const lo = parseInt(m[1] as string, 10);
          const hi = m[3] === undefined || m[3] === '' ? undefined : parseInt(m[3], 10);
          if (lo > 65535 || (hi !== undefined && hi > 65535)) fail('number too big in {} quantifier', close);
          if (hi !== undefined && hi < lo) fail('numbers out of order in {} quantifier', close);
          q = m[0];
          j = close + 1;
        } else {
          q = ch;
          j = i + 1;
        }
        if (atomStart < 0) fail('nothing to repeat', ch === '{' ? j - 1 : i);
        let suffix = '';
        if (pattern[j] === '?') {
          suffix = '?';
          j++;
        } else if (pattern[j] === '+') {
          suffix = '+';
          j++;
        }
        let atom = out.slice(atomStart);
        // JS refuses quantified lookarounds; PCRE repeats an assertion at most once
        if (atomIsAssertion) atom = `(?:${atom})`;
        if (suffix === '+') {
          atomics++;
          out = out.slice(0, atomStart) + `(?=(?<a${atomics}>${atom}${q}))\\k<a${atomics}>`;
        } else {
          out = out.slice(0, atomStart) + atom + q + suffix;
        }
        // a quantified item cannot be quantified again ("x{2}{3}", "a**")
        atomStart = -1;
        i = j;
        continue;
      }
      case '}':
      case ']':
        emitAtom('\\' + ch);
        i++;
        continue;
      default: {
        emitAtom(literal(valueAt(i)));
        i += unitLen(i);
      }
    }
  }
  if (stack.length > 0) fail('missing )', len);

  for (const ref of backrefs) {
    if (ref.num !== undefined && ref.num > ncap) fail('reference to non-existent subpattern', ref.offset);
    if (ref.name !== undefined) {
      const hit = names.find(([n]) => n === ref.name);
      if (hit === undefined) fail('reference to non-existent subpattern', ref.offset);
      out = out.replace(`\u0000${ref.name}\u0000`, `\\k<g${(hit as [string, number])[1]}>`);
    }
  }
  const sorted = [...names].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1]));
  return { source: out, flags: `dgu${caseless ? 'i' : ''}${sticky ? 'y' : ''}`, ncap, names: sorted };
}

// ---------------------------------------------------------------------------------------------
// Compiling and running

interface Compiled {
  readonly re: RegExp;
  readonly ncap: number;
  readonly names: readonly (readonly [string, number])[];
  readonly utf8: boolean;
  /** "U": UTF-8 without validity checks. */
  readonly noCheck: boolean;
  /** "d": PCRE's DFA matcher returns no sub-captures. */
  readonly dfa: boolean;
}

interface Subject {
  /** How the bytes were read: as bytes, as checked UTF-8 ("u"), as unchecked UTF-8 ("U"). */
  readonly mode: 'b' | 'u' | 'U';
  readonly bytes: Uint8Array;
  readonly str: string;
  /** UTF-16 index → byte offset (undefined when they are equal). */
  readonly unitToByte: Int32Array | undefined;
  /** byte offset → UTF-16 index, -1 inside a character (undefined when equal). */
  readonly byteToUnit: Int32Array | undefined;
}

/** Bytes as one UTF-16 unit each (see HIGH_BYTE_BASE). */
function bytesToUnits(bytes: Uint8Array): string {
  let ascii = true;
  for (const b of bytes) if (b >= 0x80) {
    ascii = false;
    break;
  }
  if (ascii) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
  const units = new Uint16Array(bytes.length);
  for (let k = 0; k < bytes.length; k++) {
    const b = bytes[k] as number;
    units[k] = b < 0x80 ? b : HIGH_BYTE_BASE + b;
  }
  let s = '';
  for (let k = 0; k < units.length; k += 8192) s += String.fromCharCode(...units.subarray(k, k + 8192));
  return s;
}

const utf8Fatal = new TextDecoder('utf-8', { fatal: true });
const utf8Lenient = new TextDecoder('utf-8');

/** The first invalid UTF-8 byte offset, for PCRE's "invalid UTF-8 string" error. */
function badUtf8Offset(bytes: Uint8Array): number {
  let k = 0;
  while (k < bytes.length) {
    const b = bytes[k] as number;
    const n = b < 0x80 ? 1 : b >= 0xc2 && b < 0xe0 ? 2 : b >= 0xe0 && b < 0xf0 ? 3 : b >= 0xf0 && b < 0xf5 ? 4 : 0;
    if (n === 0 || k + n > bytes.length) return k;
    try {
      utf8Fatal.decode(bytes.subarray(k, k + n));
    } catch {
      return k;
    }
    k += n;
  }
  return bytes.length;
}

function makeSubject(bytes: Uint8Array, utf8: boolean, check: boolean): Subject | null {
  const mode = !utf8 ? 'b' : check ? 'u' : 'U';
  if (!utf8) return { mode, bytes, str: bytesToUnits(bytes), unitToByte: undefined, byteToUnit: undefined };
  let str: string;
  try {
    str = (check ? utf8Fatal : utf8Lenient).decode(bytes);
  } catch {
    return null;
  }
  if (str.length === bytes.length) return { mode, bytes, str, unitToByte: undefined, byteToUnit: undefined };
  const unitToByte = new Int32Array(str.length + 1);
  const byteToUnit = new Int32Array(bytes.length + 1).fill(-1);
  let b = 0;
  for (let u = 0; u < str.length; u++) {
    unitToByte[u] = b;
    byteToUnit[b] = u;
    const c = str.charCodeAt(u);
    if (c >= 0xd800 && c < 0xdc00) {
      unitToByte[u + 1] = b; // the low surrogate shares the character's start
      u++;
      b += 4;
    } else b += c < 0x80 ? 1 : c < 0x800 ? 2 : 3;
  }
  unitToByte[str.length] = bytes.length;
  byteToUnit[bytes.length] = str.length;
  return { mode, bytes, str, unitToByte, byteToUnit };
}

/** "pcre_compile() failed: MSG in "PATTERN" at "REST"", cut to the 127 bytes lua-nginx-module keeps. */
function compileErrorBytes(message: string, pattern: Uint8Array, byteOffset: number): Uint8Array {
  const parts = [Buffer.from(`pcre_compile() failed: ${message} in "`), Buffer.from(pattern), Buffer.from('"')];
  if (byteOffset < pattern.length) parts.push(Buffer.from(' at "'), Buffer.from(pattern.subarray(byteOffset)), Buffer.from('"'));
  const all = Buffer.concat(parts);
  return all.subarray(0, Math.min(all.length, 127));
}

/** Compiles a PCRE pattern with ngx.re options, or returns the error message bytes. */
function compile(pattern: Uint8Array, opts: string): Compiled | Uint8Array {
  const utf8 = opts.includes('u') || opts.includes('U');
  let units: string;
  if (utf8) {
    try {
      units = utf8Fatal.decode(pattern);
    } catch {
      return compileErrorBytes('invalid UTF-8 string', pattern, badUtf8Offset(pattern));
    }
  } else units = bytesToUnits(pattern);
  let t: Translated;
  try {
    t = translatePcre(units, {
      caseless: opts.includes('i'),
      dotall: opts.includes('s'),
      multiline: opts.includes('m'),
      extended: opts.includes('x'),
      anchored: opts.includes('a'),
      dupnames: opts.includes('D'),
      utf8,
    });
  } catch (e) {
    if (!(e instanceof PcreError)) throw e;
    const byteOffset = utf8 ? Buffer.byteLength(units.slice(0, e.offset)) : e.offset;
    return compileErrorBytes(e.message, pattern, byteOffset);
  }
  let re: RegExp;
  try {
    re = new RegExp(t.source, t.flags);
  } catch (e) {
    return compileErrorBytes(String((e as Error).message).replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, ''), pattern, pattern.length);
  }
  const dfa = opts.includes('d');
  return { re, ncap: dfa ? 0 : t.ncap, names: dfa ? [] : t.names, utf8, noCheck: opts.includes('U'), dfa };
}

/** Where one match landed, in byte offsets: [from0, to0, from1, to1, ...] (-1 when unset) and PCRE's rc. */
interface Hit {
  offsets: number[];
  rc: number;
}

/** PCRE_ERROR_BADUTF8 and PCRE_ERROR_BADUTF8_OFFSET. */
const BAD_UTF8 = -10;
const BAD_UTF8_OFFSET = -11;

function execAt(c: Compiled, subj: Subject, bytePos: number): Hit | null | number {
  if (bytePos > subj.bytes.length) return null;
  let unit = bytePos;
  if (subj.byteToUnit !== undefined) {
    unit = subj.byteToUnit[bytePos] as number;
    if (unit < 0) return BAD_UTF8_OFFSET;
  }
  c.re.lastIndex = unit;
  const m = c.re.exec(subj.str);
  if (m === null) return null;
  const indices = m.indices as RegExpIndicesArray;
  const groups = indices.groups;
  const toByte = (u: number) => (subj.unitToByte === undefined ? u : (subj.unitToByte[u] as number));
  const offsets: number[] = [];
  const whole = indices[0] as [number, number];
  offsets.push(toByte(whole[0]), toByte(whole[1]));
  let rc = 1;
  for (let n = 1; n <= c.ncap; n++) {
    const span = groups?.[`g${n}`];
    if (span === undefined) offsets.push(-1, -1);
    else {
      offsets.push(toByte(span[0]), toByte(span[1]));
      rc = n + 1;
    }
  }
  return { offsets, rc };
}

/** A replacement template: literal byte runs and capture numbers ($N, ${N}, $$). */
type Template = (Uint8Array | number)[];

function parseTemplate(t: Uint8Array): Template | null {
  const parts: Template = [];
  let lit: number[] = [];
  const flush = () => {
    if (lit.length > 0) parts.push(Uint8Array.from(lit));
    lit = [];
  };
  const isDigit = (b: number | undefined) => b !== undefined && b >= 0x30 && b <= 0x39;
  for (let k = 0; k < t.length; k++) {
    const b = t[k] as number;
    if (b !== 0x24) {
      lit.push(b);
      continue;
    }
    const n1 = t[k + 1];
    if (n1 === 0x24) {
      lit.push(0x24);
      k++;
    } else if (isDigit(n1)) {
      let j = k + 1;
      let n = 0;
      while (isDigit(t[j])) n = n * 10 + ((t[j++] as number) - 0x30);
      flush();
      parts.push(n);
      k = j - 1;
    } else if (n1 === 0x7b) {
      let j = k + 2;
      let n = 0;
      if (!isDigit(t[j])) return null;
      while (isDigit(t[j])) n = n * 10 + ((t[j++] as number) - 0x30);
      if (t[j] !== 0x7d) return null;
      flush();
      parts.push(n);
      k = j;
    } else return null;
  }
  flush();
  return parts;
}

/** Bounded LRU of compiled expressions (lua_regex_cache_max_entries defaults to 1024). */
class RegexCache {
  readonly #max: number;
  readonly #map = new Map<string, Compiled>();
  constructor(max: number) {
    this.#max = max;
  }
  get(key: string): Compiled | undefined {
    const hit = this.#map.get(key);
    if (hit !== undefined) {
      this.#map.delete(key);
      this.#map.set(key, hit);
    }
    return hit;
  }
  set(key: string, value: Compiled): void {
    this.#map.set(key, value);
    if (this.#map.size > this.#max) this.#map.delete(this.#map.keys().next().value as string);
  }
}

// The Lua side: resty.core's regex.lua and ngx/re.lua logic (ctx.pos, nth, gmatch, split, sub/gsub with a
// function) over one JS primitive, js_exec(regex, opts, subj, pos) → nil | false, err | rc, offsets..., names...
const RE_LUA = String.raw`
local ngx, js_exec, js_gsub = ...
local type, tostring, error, setmetatable, select, fmt, sub, find, mtype, max, min =
  type, tostring, error, setmetatable, select, string.format, string.sub, string.find, math.type, math.max, math.min
local NUM_FMT = "%.14g"
local pack = table.pack

local function tostr(v)
  if type(v) == "number" then return mtype(v) == "integer" and fmt("%d", v) or fmt(NUM_FMT, v) end
  return tostring(v)
end

-- resty.core raises these from inside regex.lua; here they point at the caller of the ngx.re function
local function check(regex, opts, level)
  if type(regex) ~= "string" then
    error("attempt to get length of local 'regex' (a " .. type(regex) .. " value)", level + 1)
  end
  if opts == nil then return "" end
  if type(opts) ~= "string" then
    error("attempt to get length of local 'opts' (a " .. type(opts) .. " value)", level + 1)
  end
  local bad = find(opts, "[^ojisumUxdaDJ]")
  if bad then
    error(fmt('unknown flag "%s" (flags "%s")', sub(opts, bad, bad), opts), level + 1)
  end
  return opts
end

-- builds the captures table from js_exec's results (after the leading rc)
-- A named capture: res[name] is capture n; with the D option, a list of every capture of that name.
local function add_name(res, dup, name, n)
  local cap = res[n]
  if dup then
    if cap then
      local old = res[name]
      if old then old[#old + 1] = cap else res[name] = { cap } end
    end
  else
    res[name] = cap
  end
end

local function collect(subj, res, dup, rc, ncap, ...)
  res = res or {}
  for i = 0, ncap do
    local from, to = select(2 * i + 1, ...)
    if from >= 0 then res[i] = sub(subj, from + 1, to) else res[i] = false end
  end
  local nnames = select(2 * ncap + 3, ...)
  for k = 1, nnames do
    add_name(res, dup, select(2 * ncap + 3 + 2 * k - 1, ...))
  end
  return res
end

local function start_pos(ctx)
  if not ctx then return 0 end
  local pos = ctx.pos
  if not pos or pos <= 0 then return 0 end
  pos = pos - 1
  return pos >= 0 and pos // 1 or 0
end

local function match_result(subj, res, dup, ctx, rc, ncap, ...)
  if rc == nil then return nil end
  if rc == false then return nil, ncap end
  if ctx then ctx.pos = select(2, ...) + 1 end
  return collect(subj, res, dup, rc, ncap, ...)
end

function ngx.re.match(subj, regex, opts, ctx, res)
  subj = tostr(subj)
  opts = check(regex, opts, 2)
  return match_result(subj, res, find(opts, "D", 1, true) ~= nil, ctx, js_exec(regex, opts, subj, start_pos(ctx), 1))
end

function ngx.re.find(subj, regex, opts, ctx, nth)
  subj = tostr(subj)
  opts = check(regex, opts, 2)
  local rc, ncap, from, to, f, t = js_exec(regex, opts, subj, start_pos(ctx), 2, nth)
  if rc == nil then return nil end
  if rc == false then return nil, nil, ncap end
  if ctx then ctx.pos = to + 1 end
  if not nth or nth < 0 then nth = 0 end
  if nth > ncap then return nil, nil, "nth out of bound" end
  if nth >= rc then return nil, nil end
  if f < 0 or t < 0 then return nil, nil end
  return f + 1, t
end

local BATCH = 64

-- Fetches up to BATCH matches from byte pos into queue q (captures tables, plus their 0-based
-- spans in q.from / q.to); returns the next position (-1 when exhausted), or nil, err.
local function fetch(q, subj, regex, opts, pos, dup)
  local r = pack(js_exec(regex, opts, subj, pos, 4, BATCH))
  if r[1] == nil then return -1 end
  if r[1] == false then return nil, r[2] end
  local count, ncap, nnames = r[1], r[2], r[3]
  local k = 4 + 2 * nnames
  for _ = 1, count do
    local res = {}
    for i = 0, ncap do
      local from, to = r[k + 1 + 2 * i], r[k + 2 + 2 * i]
      if from >= 0 then res[i] = sub(subj, from + 1, to) else res[i] = false end
    end
    for j = 1, nnames do
      add_name(res, dup, r[2 + 2 * j], r[3 + 2 * j])
    end
    q.n = q.n + 1
    q[q.n], q.from[q.n], q.to[q.n] = res, r[k + 1], r[k + 2]
    k = k + 1 + 2 * (ncap + 1)
  end
  return r[k]
end

local gmatch_mt = {}

gmatch_mt.__call = function(self)
  local q = self._q
  if q.i >= q.n then
    local pos = self._pos
    if pos < 0 then return nil end
    q.i, q.n, q.from, q.to = 0, 0, {}, {}
    local nextpos, err = fetch(q, self._subj, self._regex, self._opts, pos, self._dup)
    if nextpos == nil then self._pos = -1 return nil, err end
    self._pos = nextpos
    if q.n == 0 then return nil end
  end
  q.i = q.i + 1
  local res = q[q.i]
  q[q.i] = nil
  return res
end

function ngx.re.gmatch(subj, regex, opts)
  subj = tostr(subj)
  opts = check(regex, opts, 2)
  -- compile now, so a bad pattern is reported here as OpenResty does
  local rc, err = js_exec(regex, opts, "", 1, 0)
  if rc == false then return nil, err end
  return setmetatable({ _subj = subj, _regex = regex, _opts = opts, _pos = 0, _dup = find(opts, "D", 1, true) ~= nil,
    _q = { i = 0, n = 0 } }, gmatch_mt)
end

local function sub_fn(subj, regex, replace, opts, global)
  local pos, cp_pos, count, buf = 0, 0, 0, {}
  local dup = find(opts, "D", 1, true) ~= nil
  while pos >= 0 do
    local q = { n = 0, from = {}, to = {} }
    local nextpos, err = fetch(q, subj, regex, opts, pos, dup)
    if nextpos == nil then return nil, nil, err end
    for i = 1, q.n do
      count = count + 1
      buf[#buf + 1] = sub(subj, cp_pos + 1, q.from[i])
      buf[#buf + 1] = tostr(replace(q[i]))
      cp_pos = q.to[i]
      if not global then break end
    end
    if not global then break end
    pos = nextpos
  end
  if count == 0 then return subj, 0 end
  buf[#buf + 1] = sub(subj, cp_pos + 1)
  return table.concat(buf), count
end

-- ngx.re.sub/gsub tail-call this, so level 2 here is their caller
local function re_sub(subj, regex, replace, opts, global)
  opts = check(regex, opts, 2)
  if type(replace) == "function" then return sub_fn(tostr(subj), regex, replace, opts, global) end
  local out, count = js_gsub(tostr(subj), regex, opts, tostr(replace), global)
  if out == false then return nil, nil, count end
  return out, count
end

function ngx.re.sub(subj, regex, replace, opts)
  return re_sub(subj, regex, replace, opts, false)
end

function ngx.re.gsub(subj, regex, replace, opts)
  return re_sub(subj, regex, replace, opts, true)
end

-- lua-resty-core's ngx/re.lua
local M = { version = "0.1.25" }

local function split_helper(subj, regex, opts, ctx)
  local rc, ncap, from, to, c1f, c1t = js_exec(regex, opts, subj, max(ctx.pos, 0), 3)
  if rc == nil then return nil, nil, nil end
  if rc == false then return nil, nil, nil, ncap end
  if from < 0 or to < 0 then return nil, nil, nil end
  if from == to then ctx.pos = to + 1 else ctx.pos = to end
  from, to = from + 1, to + 1
  if ncap > 0 and rc > 1 then return from, to, sub(subj, c1f + 1, c1t) end
  return from, to
end

local split_ctx = {}

function M.split(subj, regex, opts, ctx, max_, res)
  subj = tostr(subj)
  if not ctx then
    ctx = split_ctx
    ctx.pos = 1
  elseif not ctx.pos then
    ctx.pos = 1
  end
  max_ = max_ or 0
  if not res then
    res = {}
  elseif type(res) ~= "table" then
    error("res is not a table", 2)
  end
  local len = #subj
  if ctx.pos > len then
    res[1] = nil
    return res
  end
  opts = check(regex, opts, 2)
  local rc, err = js_exec(regex, opts, "", 1, 0)
  if rc == false then return nil, err end
  local sub_idx = ctx.pos
  local res_idx = 0
  local last_empty_match
  ctx.pos = sub_idx - 1
  local count = 1
  while max_ <= 0 or count < max_ do
    local from, to, capture, e = split_helper(subj, regex, opts, ctx)
    if e then return nil, e end
    if not from then break end
    if last_empty_match then sub_idx = last_empty_match end
    if from == to then last_empty_match = from end
    if from > sub_idx or not last_empty_match then
      count = count + 1
      res_idx = res_idx + 1
      res[res_idx] = sub(subj, sub_idx, from - 1)
      if capture then
        res_idx = res_idx + 1
        res[res_idx] = capture
      end
      sub_idx = to
      if sub_idx > len then break end
    end
  end
  if max_ <= 0 and sub_idx > len then
    for ety_idx = res_idx, 1, -1 do
      if res[ety_idx] ~= "" then
        res_idx = ety_idx
        break
      end
      res[ety_idx] = nil
    end
  else
    res_idx = res_idx + 1
    res[res_idx] = sub(subj, sub_idx)
  end
  res[res_idx + 1] = nil
  return res
end

function M.opt(option, value)
  if option == "jit_stack_size" then return end
  error("unrecognized option name", 2)
end

return M
`;

/** How many compiled expressions the "o" option keeps (lua_regex_cache_max_entries' default). */
const CACHE_ENTRIES = 1024;

/**
 * Installs ngx.re.* and `package.preload["ngx.re"]`. The compiled-expression cache belongs to this
 * installation (one per VM); expressions without "o" are compiled per call, as OpenResty does, with a
 * one-entry memo so that a gsub/gmatch loop does not recompile on every step.
 */
export function installRe(ctx: NgxInstall): void {
  const { vm } = ctx;
  const cache = new RegexCache(CACHE_ENTRIES);
  let memoKey = '';
  let memo: Compiled | undefined;
  let lastSubject: Subject | null = null;

  const getCompiled = (regex: Uint8Array, opts: string): Compiled | Uint8Array => {
    const key = `${opts}\u0000${Buffer.from(regex.buffer, regex.byteOffset, regex.length).toString('latin1')}`;
    const once = opts.includes('o');
    let c = once ? cache.get(key) : key === memoKey ? memo : undefined;
    if (c !== undefined) return c;
    const r = compile(regex, opts);
    if (r instanceof Uint8Array) return r;
    c = r;
    if (once) cache.set(key, c);
    else {
      memoKey = key;
      memo = c;
    }
    return c;
  };

  const subjectFor = (bytes: Uint8Array, c: Compiled): Subject | null => {
    // gmatch, split and gsub with a function call exec once per match on the same subject
    const last = lastSubject;
    const mode = !c.utf8 ? 'b' : c.noCheck ? 'U' : 'u';
    if (last !== null && last.mode === mode && last.bytes.length === bytes.length && Buffer.compare(last.bytes, bytes) === 0) return last;
    const s = makeSubject(bytes, c.utf8, !c.noCheck);
    lastSubject = s;
    return s;
  };

  // Up to `limit` successive matches (gsub's stepping rule), so that gmatch and gsub with a function
  // cross once per batch rather than once per match: count, ncap, nnames, names...,
  // then per match rc and all offsets, then the next start position (-1: exhausted).
  const batch = (call: LuaCall, c: Compiled, subj: Subject, start: number, limit: number): number => {
    const hits: Hit[] = [];
    let pos = start;
    while (hits.length < limit) {
      const hit = execAt(c, subj, pos);
      if (hit === null) {
        pos = -1;
        break;
      }
      if (typeof hit === 'number') {
        if (hits.length > 0) break; // report the error when the caller gets there
        call.pushBoolean(false);
        call.pushString(`pcre_exec() failed: ${hit}`);
        return 2;
      }
      hits.push(hit);
      const from = hit.offsets[0] as number;
      pos = hit.offsets[1] as number;
      if (pos === from && ++pos > subj.bytes.length) {
        pos = -1;
        break;
      }
    }
    if (hits.length === 0) {
      call.pushNil();
      return 1;
    }
    call.pushInteger(hits.length);
    call.pushInteger(c.ncap);
    call.pushInteger(c.names.length);
    for (const [name, n] of c.names) {
      call.pushString(name);
      call.pushInteger(n);
    }
    for (const h of hits) {
      call.pushInteger(h.rc);
      for (const o of h.offsets) call.pushInteger(o);
    }
    call.pushInteger(pos);
    return 4 + 2 * c.names.length + hits.length * (1 + 2 * (c.ncap + 1));
  };

  // js_exec(regex, opts, subj, pos, mode[, nth])
  //   mode 0: rc, ncap, from0, to0 (enough for most callers)       mode 1: rc, ncap, all offsets, nnames, names
  //   mode 2: rc, ncap, from0, to0, from_nth, to_nth                mode 3: rc, ncap, from0, to0, from1, to1
  //   mode 4: a batch of matches (see batch())
  // no match: nil; errors: false, message
  const exec = vm.createFunction((call) => {
    const regex = call.bytes(1) ?? new Uint8Array();
    const opts = call.string(2) ?? '';
    const c = getCompiled(regex, opts);
    if (c instanceof Uint8Array) {
      call.pushBoolean(false);
      call.pushBytes(c);
      return 2;
    }
    const subj = subjectFor(call.bytes(3) ?? new Uint8Array(), c);
    if (subj === null) {
      call.pushBoolean(false);
      call.pushString(`pcre_exec() failed: ${BAD_UTF8}`);
      return 2;
    }
    const startPos = Math.max(0, Math.trunc(call.number(4) ?? 0));
    const mode = call.number(5) ?? 0;
    if (mode === 4) return batch(call, c, subj, startPos, Math.max(1, call.number(6) ?? 1));
    const hit = execAt(c, subj, startPos);
    if (hit === null) {
      call.pushNil();
      return 1;
    }
    if (typeof hit === 'number') {
      call.pushBoolean(false);
      call.pushString(`pcre_exec() failed: ${hit}`);
      return 2;
    }
    call.pushInteger(hit.rc);
    call.pushInteger(c.ncap);
    const o = hit.offsets;
    call.pushInteger(o[0] as number);
    call.pushInteger(o[1] as number);
    if (mode === 0) return 4;
    if (mode === 2 || mode === 3) {
      const n = mode === 3 ? 1 : Math.max(0, Math.trunc(call.number(6) ?? 0));
      call.pushInteger(o[2 * n] ?? -1);
      call.pushInteger(o[2 * n + 1] ?? -1);
      return 6;
    }
    for (let k = 2; k < o.length; k++) call.pushInteger(o[k] as number);
    call.pushInteger(c.names.length);
    for (const [name, n] of c.names) {
      call.pushString(name);
      call.pushInteger(n);
    }
    return 2 + o.length + 1 + 2 * c.names.length;
  }, 'ngx.re');

  // js_gsub(subj, regex, opts, template, global) → out, count | false, message
  const gsub = vm.createFunction((call) => {
    const regex = call.bytes(2) ?? new Uint8Array();
    const opts = call.string(3) ?? '';
    const c = getCompiled(regex, opts);
    if (c instanceof Uint8Array) {
      call.pushBoolean(false);
      call.pushBytes(c);
      return 2;
    }
    const template = parseTemplate(call.bytes(4) ?? new Uint8Array());
    if (template === null) {
      call.pushBoolean(false);
      call.pushString('failed to compile the replacement template');
      return 2;
    }
    const bytes = call.bytes(1) ?? new Uint8Array();
    const global = call.boolean(5);
    const subj = subjectFor(bytes, c);
    if (subj === null) {
      call.pushBoolean(false);
      call.pushString(`pcre_exec() failed: ${BAD_UTF8}`);
      return 2;
    }
    const pieces: Uint8Array[] = [];
    let pos = 0;
    let cpPos = 0;
    let count = 0;
    for (;;) {
      const hit = execAt(c, subj, pos);
      if (hit === null) break;
      if (typeof hit === 'number') {
        call.pushBoolean(false);
        call.pushString(`pcre_exec() failed: ${hit}`);
        return 2;
      }
      count++;
      const o = hit.offsets;
      const from = o[0] as number;
      const to = o[1] as number;
      pieces.push(bytes.subarray(cpPos, from));
      for (const part of template) {
        if (typeof part !== 'number') pieces.push(part);
        else if (part < hit.rc && (o[2 * part] as number) >= 0) pieces.push(bytes.subarray(o[2 * part] as number, o[2 * part + 1] as number));
      }
      cpPos = to;
      pos = to;
      if (pos === from) {
        pos++;
        if (pos > bytes.length) break;
      }
      if (!global) break;
    }
    if (count === 0) call.pushBytes(bytes);
    else {
      pieces.push(bytes.subarray(cpPos));
      call.pushBytes(Buffer.concat(pieces));
    }
    call.pushInteger(count);
    return 2;
  }, 'ngx.re.gsub');

  const reTable = vm.newTable();
  vm.setField(ctx.ngx, 're', reTable);
  const [mod] = vm.run(RE_LUA, 'ngx.re', ctx.ngx, exec, gsub);
  vm.run('local preload, mod = ... preload["ngx.re"] = function() return mod end', 'ngx.re', ctx.preload, mod ?? null);
  if (mod !== undefined && mod !== null && typeof mod === 'object' && 'release' in mod) mod.release();
  reTable.release();
  exec.release();
  gsub.release();
}
