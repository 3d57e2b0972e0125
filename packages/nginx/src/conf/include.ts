// `include path;` as nginx resolves it: relative to the conf prefix (the main file's folder), a
// glob (`conf.d/*.conf`) naming its files in sorted order; a plain path that is missing is an error.

import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { globSync } from 'tinyglobby';
import { NginxConfError } from '../errors.js';
import type { IncludeReader } from './parser.js';

const GLOB_CHARS = /[*?[]/;

/** An IncludeReader for files on disk, relative paths resolved under `confPrefix`. */
export function fileIncluder(confPrefix: string): IncludeReader {
  return (pattern, from) => {
    const full = isAbsolute(pattern) ? pattern : resolve(confPrefix, pattern);
    if (!GLOB_CHARS.test(pattern)) return [{ file: full, text: readConf(full, from) }];
    // A glob matching nothing is fine (nginx: an empty conf.d/ includes nothing).
    const files = globSync(full, { absolute: true, onlyFiles: true, expandDirectories: false }).sort();
    return files.map((file) => ({ file, text: readConf(file, from) }));
  };
}

function readConf(file: string, from: { file: string; line: number }): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'No such file or directory' : (err as Error).message;
    throw new NginxConfError(`open() "${file}" failed (${reason})`, from.file, from.line, { cause: err });
  }
}
