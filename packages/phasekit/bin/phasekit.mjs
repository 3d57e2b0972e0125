#!/usr/bin/env node
// The `phasekit` command; the work is in src/cli.ts.
import { main } from '#cli';

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== undefined) process.exitCode = code;
  },
  (err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  },
);
