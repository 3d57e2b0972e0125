// Shorthands for writing cases. They only build plain case objects (see suite.d.mts); the
// generators never see them.

/**
 * A Lua one-liner defining `dump(t)`: prints a table's keys sorted, one `k: v` per line, a
 * table value as `[a,b]`. On one line (ending with a space) so it does not shift the line
 * numbers of the code after it.
 */
export const DUMP =
  'local function dump(t) local ks = {} for k in pairs(t) do ks[#ks + 1] = k end ' +
  'table.sort(ks, function(a, b) return tostring(a) < tostring(b) end) ' +
  'for _, k in ipairs(ks) do local v = t[k] if type(v) == "table" then local p = {} ' +
  'for i, x in ipairs(v) do p[i] = tostring(x) end v = "[" .. table.concat(p, ",") .. "]" end ' +
  'ngx.say(k, ": ", tostring(v)) end end ';

/** A case with one location `/` (or `location.match`) and the given requests (default: `GET /`). */
export function at(name, location, requests = [{}], extra = {}) {
  return { name, ...extra, locations: [{ match: '/', ...location }], requests };
}

/** A case whose only handler is `content` at `/`. */
export function content(name, lua, requests = [{}], extra = {}) {
  return at(name, { content: lua }, requests, extra);
}

/** `{ path }` requests from paths. */
export const gets = (...paths) => paths.map((path) => ({ path }));

/** A case with several locations. */
export function locs(name, locations, requests = [{}], extra = {}) {
  return { name, ...extra, locations, requests };
}
