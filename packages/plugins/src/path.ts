// Paths in config messages: `locations[1].plugins[0].config.second`.

/** Joins path parts: numbers as `[i]`, names with dots. */
export function joinPath(...parts: readonly (string | number | symbol)[]): string {
  let out = '';
  for (const part of parts) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (part === '') continue;
    else if (String(part).startsWith('[')) out += String(part);
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out;
}
