// nginx location syntax and selection: `= exact`, `^~ prefix`, longest prefix, `~`/`~*` regex in order, `@named`.

export type MatchKind = 'exact' | 'prefix' | 'prefixStop' | 'regex' | 'named';

export interface ParsedMatch {
  kind: MatchKind;
  /** The path, regex source, or name (without `@`). */
  value: string;
  regex?: RegExp;
}

/** Parses a `match` string; returns an error message instead when it is not valid. */
export function parseMatch(match: string): ParsedMatch | string {
  const m = /^(=|\^~|~\*|~)?\s*(.*)$/s.exec(match.trim());
  const modifier = m?.[1];
  const value = m?.[2] ?? '';
  if (value === '') return 'empty location';
  switch (modifier) {
    case '=':
      return { kind: 'exact', value };
    case '^~':
      return { kind: 'prefixStop', value };
    case '~':
    case '~*':
      try {
        return { kind: 'regex', value, regex: new RegExp(value, modifier === '~*' ? 'i' : '') };
      } catch (err) {
        return `bad regex: ${(err as Error).message}`;
      }
    default:
      if (value.startsWith('@')) return value.length > 1 ? { kind: 'named', value: value.slice(1) } : 'empty named location';
      if (!value.startsWith('/')) return 'a location must start with "/", "=", "^~", "~", "~*" or "@"';
      return { kind: 'prefix', value };
  }
}

export interface LocationMatch<T> {
  location: T;
  /** Regex captures ($1..$9 and named ones) when a regex location matched. */
  captures?: RegExpExecArray;
}

interface PrefixEntry<T> {
  path: string;
  stop: boolean;
  location: T;
}

/** The locations of one engine, indexed for nginx's selection rule. */
export class LocationTable<T> {
  readonly #exact = new Map<string, T>();
  /** Prefix locations, longest first. */
  readonly #prefixes: PrefixEntry<T>[] = [];
  readonly #regexes: { regex: RegExp; location: T }[] = [];
  readonly #named = new Map<string, T>();

  add(match: ParsedMatch, location: T): void {
    switch (match.kind) {
      case 'exact':
        this.#exact.set(match.value, location);
        break;
      case 'prefix':
      case 'prefixStop':
        this.#prefixes.push({ path: match.value, stop: match.kind === 'prefixStop', location });
        this.#prefixes.sort((a, b) => b.path.length - a.path.length);
        break;
      case 'regex':
        this.#regexes.push({ regex: match.regex as RegExp, location });
        break;
      case 'named':
        this.#named.set(match.value, location);
        break;
      default: {
        const never: never = match.kind;
        throw new Error(`unknown match kind ${String(never)}`);
      }
    }
  }

  /** nginx's rule, for a normalized URI. */
  find(uri: string): LocationMatch<T> | undefined {
    const exact = this.#exact.get(uri);
    if (exact !== undefined) return { location: exact };
    let prefix: PrefixEntry<T> | undefined;
    for (const p of this.#prefixes) {
      if (uri.startsWith(p.path)) {
        prefix = p;
        break;
      }
    }
    if (prefix?.stop) return { location: prefix.location };
    for (const r of this.#regexes) {
      const captures = r.regex.exec(uri);
      if (captures !== null) return { location: r.location, captures };
    }
    return prefix === undefined ? undefined : { location: prefix.location };
  }

  named(name: string): T | undefined {
    return this.#named.get(name);
  }
}

/**
 * nginx's URI normalization: %XX decoded, `//` merged, `.` and `..` segments resolved.
 * Returns undefined for what nginx answers 400 to: no leading slash, bad escapes, or a
 * path that climbs above the root.
 */
export function normalizeUri(path: string): string | undefined {
  if (path.charCodeAt(0) !== 47 /* / */) return undefined;
  if (path.indexOf('%') === -1 && path.indexOf('//') === -1 && path.indexOf('/.') === -1) return path;
  let decoded = path;
  if (path.indexOf('%') !== -1) {
    // Bad escapes and an escaped NUL are refused, as nginx's request-line parser does.
    if (/%(?![0-9a-fA-F]{2})|%00/.test(path)) return undefined;
    decoded = path.replace(/%([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
    // nginx keeps the bytes; re-read multi-byte UTF-8 sequences as text when they are valid.
    try {
      decoded = Buffer.from(decoded, 'latin1').toString('utf8');
    } catch {
      /* keep the latin1 form */
    }
  }
  const out: string[] = [];
  const segments = decoded.split('/');
  for (let i = 1; i < segments.length; i++) {
    const seg = segments[i] as string;
    if (seg === '' && i < segments.length - 1) continue;
    if (seg === '.') {
      if (i === segments.length - 1) out.push('');
      continue;
    }
    if (seg === '..') {
      if (out.length === 0) return undefined;
      out.pop();
      if (i === segments.length - 1) out.push('');
      continue;
    }
    out.push(seg);
  }
  return '/' + out.join('/');
}
