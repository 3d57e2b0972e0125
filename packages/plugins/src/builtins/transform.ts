// The `name:value` lists request-transformer and response-transformer take, parsed once.

import { z } from 'zod';

/** `"name:value"` (the value may hold colons). */
export const pair = z.string().regex(/^[^:]+:.*$/s, 'expected "name:value"');
/** `"old:new"`. */
export const rename = z.string().regex(/^[^:]+:[^:]+$/, 'expected "old:new"');

export function splitPair(text: string): [string, string] {
  const i = text.indexOf(':');
  return [text.slice(0, i).trim(), text.slice(i + 1)];
}

export const pairs = (list: readonly string[] | undefined): [string, string][] => (list ?? []).map(splitPair);
