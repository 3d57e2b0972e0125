// Every error code is documented in docs/reference/errors.md, and the page lists no stale code.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '@phasekit/core';
import { LUA_ERROR_CODES } from '@phasekit/lua';
import { PLUGIN_ERROR_CODES } from '@phasekit/plugins';

const ALL_CODES = [...Object.keys(ERROR_CODES), ...Object.keys(LUA_ERROR_CODES), ...Object.keys(PLUGIN_ERROR_CODES)];

const page = readFileSync(new URL('../docs/reference/errors.md', import.meta.url), 'utf8');

describe('docs/reference/errors.md', () => {
  it.each(ALL_CODES)('documents %s', (code) => {
    expect(page).toMatch(new RegExp(`^## \`${code}\`$`, 'm'));
  });

  it('documents no code that does not exist', () => {
    const documented = [...page.matchAll(/^## `(PHASEKIT_ERR_[A-Z_]+)`$/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual([...ALL_CODES].sort());
  });
});
