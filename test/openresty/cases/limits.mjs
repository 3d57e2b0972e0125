// What the CPU and memory bounds touch and OpenResty has too: string.rep (phasekit fills it natively
// so one call stays short) and big strings built in a handler.
import { at, content } from '../case-helpers.mjs';

const c = (name, lua) => content(`limits: ${name}`, lua);

export default [
  c('string.rep results', 'ngx.say(string.rep("ab", 3), "|", string.rep("ab", 3, ","), "|", ("x"):rep(1, "-"), "|", string.rep("x", 0), "|", string.rep("x", -5), "|", string.rep("", 5), "|", string.rep(12, 2))'),
  c('string.rep with NUL bytes', 'local s = string.rep("a\\0b", 3, "\\0") ngx.say(#s, " ", (s:gsub("%z", ".")))'),
  c('string.rep of 1 MB with a separator', 'local s = string.rep("xyz", 2^18, "--") ngx.say(#s, " ", s:sub(1, 8), " ", s:sub(-8), " ", s == ("xyz--"):rep(2^18 - 1) .. "xyz")'),
  c('string.rep of 4 MB, then upper', 'local s = string.rep("a", 4 * 2^20) local u = s:upper() ngx.say(#u, " ", u:sub(1, 3), " ", u:sub(-3))'),
  c('a table of 1 MB strings', 'local t = {} for i = 1, 20 do t[i] = string.rep("y", 2^20) .. i end ngx.say(#t, " ", #t[20])'),
  // A handler stopped (by an error here; by the budget in phasekit) answers 500 through the filters.
  at('limits: a failed content handler answers 500 through header and body filters', {
    content: 'error("stopped")',
    headerFilter: 'ngx.header["X-Filtered"] = "yes"',
    bodyFilter: 'ngx.arg[1] = (ngx.arg[1]:gsub("Internal", "INTERNAL"))',
  }),
];
