// Query strings the way ngx.decode_args / ngx.encode_args / $arg_NAME treat them.

export type ArgValue = string | true;
export type Args = Record<string, ArgValue | ArgValue[]>;
/** What encodeArgs accepts: true means a bare key, false drops it, arrays repeat the key. */
export type ArgsInput = Record<string, string | number | boolean | readonly (string | number | boolean)[]>;

/** ngx.unescape_uri: %XX decoded, `+` as a space; bad escapes left as they are. */
export function unescapeUri(s: string): string {
  if (s.indexOf('%') === -1 && s.indexOf('+') === -1) return s;
  const plus = s.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(plus);
  } catch {
    return plus.replace(/%([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
  }
}

/** ngx.escape_uri (type 2, the default): everything but unreserved characters is %XX-escaped. */
export function escapeUri(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

/**
 * ngx.decode_args: `a=1&a=2&b&c=` → { a: ["1","2"], b: true, c: "" }. Stops after `max`
 * arguments (0 = no limit); the second element says whether it did.
 */
export function decodeArgs(query: string, max = 100): [Args, boolean] {
  const out: Args = Object.create(null) as Args;
  if (query === '') return [out, false];
  let count = 0;
  let start = 0;
  const len = query.length;
  while (start <= len) {
    let end = query.indexOf('&', start);
    if (end === -1) end = len;
    if (end > start) {
      if (max > 0 && count >= max) return [out, true];
      const part = query.slice(start, end);
      const eq = part.indexOf('=');
      const key = unescapeUri(eq === -1 ? part : part.slice(0, eq));
      if (key !== '') {
        const value: ArgValue = eq === -1 ? true : unescapeUri(part.slice(eq + 1));
        const prev = out[key];
        if (prev === undefined) out[key] = value;
        else if (Array.isArray(prev)) prev.push(value);
        else out[key] = [prev, value];
        count++;
      }
    }
    start = end + 1;
  }
  return [out, false];
}

/** ngx.encode_args. */
export function encodeArgs(args: ArgsInput): string {
  const parts: string[] = [];
  for (const key of Object.keys(args)) {
    const v = args[key];
    const values = Array.isArray(v) ? v : [v];
    for (const item of values) {
      if (item === true) parts.push(escapeUri(key));
      else if (item !== false && item !== undefined) parts.push(`${escapeUri(key)}=${escapeUri(String(item))}`);
    }
  }
  return parts.join('&');
}

/** $arg_NAME: the raw (still escaped) value of the first `name=` in the query, or undefined. */
export function rawArg(query: string, name: string): string | undefined {
  let start = 0;
  const len = query.length;
  while (start < len) {
    let end = query.indexOf('&', start);
    if (end === -1) end = len;
    const eq = query.indexOf('=', start);
    const keyEnd = eq === -1 || eq > end ? end : eq;
    if (keyEnd - start === name.length && query.slice(start, keyEnd).toLowerCase() === name) {
      return keyEnd === end ? '' : query.slice(keyEnd + 1, end);
    }
    start = end + 1;
  }
  return undefined;
}
