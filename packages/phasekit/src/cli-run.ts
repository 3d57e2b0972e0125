// `phasekit run`, as OpenResty's `resty`: Lua from -e or a file, run in a timer context on an
// engine with the shared dicts and package path asked for; ngx.say / ngx.print go to stdout.

import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { SharedDict } from '@phasekit/core';
import type { CliUsageError } from './cli-config.js';
import { createEngine } from './engine.js';

/** The shared dict the script's output goes through (the Lua side rpushes, this side drains). */
const OUT = '__phasekit_run_output';

/** A Lua long bracket that `text` does not close. */
function longString(text: string): string {
  // The newline after the opening bracket is skipped by Lua, so a leading one in `text` is kept.
  let eq = '';
  while (text.includes(`]${eq}]`)) eq += '=';
  return `[${eq}[\n${text}]${eq}]`;
}

/**
 * The script wrapped as resty wraps it: ngx.say, ngx.print, ngx.flush and ngx.eof write to the
 * output, ngx.exit ends the script with that status, `arg` holds the command line.
 */
function wrap(code: string, chunkName: string, args: readonly string[], script: string): string {
  const argTable = `{ [0] = ${longString(script)}, ${args.map(longString).join(', ')} }`;
  return `local out = ngx.shared.${OUT}
local concat, type, tostring = table.concat, type, tostring
local function flat(acc, v)
  if type(v) == "table" then for i = 1, #v do flat(acc, v[i]) end
  elseif v == nil then acc[#acc + 1] = "nil"
  elseif type(v) == "boolean" then acc[#acc + 1] = v and "true" or "false"
  else acc[#acc + 1] = tostring(v) end
end
local function write(nl, ...)
  local acc = {}
  for i = 1, select("#", ...) do flat(acc, (select(i, ...))) end
  if nl then acc[#acc + 1] = "\\n" end
  out:rpush("o", concat(acc))
  return 1
end
ngx.say = function(...) return write(true, ...) end
ngx.print = function(...) return write(false, ...) end
ngx.flush = function() return 1 end
ngx.eof = function() return 1 end
ngx.exit = function(status) out:set("exit", status) error("__phasekit_run_exit", 0) end
rawset(_G, "arg", ${argTable})
local f, err = load(${longString(code)}, ${longString(chunkName)}, "t", _ENV)
if not f then error(err, 0) end
local ok, e = xpcall(f, function(m)
  if m == "__phasekit_run_exit" then return m end
  return debug and debug.traceback and debug.traceback(tostring(m), 2) or tostring(m)
end, (table.unpack or unpack)(arg))
if not ok and e ~= "__phasekit_run_exit" then out:set("error", e) end
`;
}

export async function runLua(argv: readonly string[], usage: (m: string) => CliUsageError): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: { e: { type: 'string', short: 'e' }, shdict: { type: 'string', multiple: true }, I: { type: 'string', short: 'I', multiple: true } },
  });
  const sharedDicts: Record<string, string> = { [OUT]: '64m' };
  for (const d of values.shdict ?? []) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s+(\d+[kKmMgG]?)\s*$/.exec(d);
    if (m === null) throw usage(`run: bad --shdict "${d}": expected 'NAME SIZE'`);
    sharedDicts[m[1] as string] = m[2] as string;
  }
  let code = values.e;
  let script = 'phasekit-run';
  let args = positionals;
  if (code === undefined) {
    const [file, ...rest] = positionals;
    if (file === undefined) throw usage('run: give -e CODE or a script file');
    code = await readFile(file, 'utf8');
    script = file;
    args = rest;
  }
  const dirs = (values.I ?? []).map((d) => resolve(d));
  const packagePath = [...dirs.flatMap((d) => [`${d}/?.lua`, `${d}/?/init.lua`]), ''].join(';') + ';';
  const engine = await createEngine({ sharedDicts, lua: { prefix: process.cwd(), packagePath }, errorLogLevel: 'warn', locations: [] });
  // A dict made from a size lives in this process: its calls answer at once.
  const dict = engine.sharedDicts[OUT] as SharedDict | undefined;
  const drain = () => {
    for (let [v] = dict?.lpop('o') ?? []; v !== undefined; [v] = dict?.lpop('o') ?? []) process.stdout.write(typeof v === 'string' ? v : String(v));
  };
  const pump = setInterval(drain, 20);
  try {
    const outcome = await engine.runPhase('timer', { lua: wrap(code, values.e === undefined ? `@${script}` : '=(command line -e)', args, script) });
    drain();
    // The script's own error as resty prints it; a failure of the wrapper is in the error log.
    const failure = dict?.get('error');
    if (typeof failure === 'string') process.stderr.write(`ERROR: ${failure}\n`);
    if (outcome.error !== undefined || failure !== undefined) return 1;
    const status = dict?.get('exit');
    return typeof status === 'number' && status >= 300 ? 1 : 0;
  } finally {
    clearInterval(pump);
    await engine.close();
    drain();
  }
}
