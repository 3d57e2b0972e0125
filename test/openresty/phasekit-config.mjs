// One case → one phasekit engine config, mechanically: the same keys as nginx-conf.mjs maps
// to directives, each handler body becoming `{ lua }`.

const PHASES = ['rewrite', 'access', 'content', 'headerFilter', 'bodyFilter', 'log'];

function location(loc) {
  const out = { match: loc.match };
  if (loc.internal) out.internal = true;
  if (loc.defaultType !== undefined) out.defaultType = loc.defaultType;
  if (loc.vars !== undefined) out.vars = { ...loc.vars };
  if (loc.set !== undefined) {
    out.set = loc.set.map((s) => (s.args !== undefined ? { var: s.var, lua: s.lua, args: [...s.args] } : { var: s.var, lua: s.lua }));
  }
  for (const phase of PHASES) if (loc[phase] !== undefined) out[phase] = { lua: loc[phase] };
  if (loc.proxyPass !== undefined) out.proxyPass = loc.proxyPass;
  return out;
}

/**
 * The engine config of one case (placeholders already filled). `dir` is the suite's folder:
 * relative `lua.packagePath` entries resolve there, as nginx-conf.mjs makes them absolute.
 * The globals nginx-conf.mjs writes into every nginx.conf have their counterparts here:
 * `default_type text/plain`, `error_log ... info`, `lua_code_cache on`, `server_name localhost`.
 */
export function phasekitConfig(testCase, { dir }) {
  const config = {
    defaultType: 'text/plain',
    errorLogLevel: 'info',
    serverName: 'localhost',
    lua: { codeCache: true, prefix: dir },
    locations: testCase.locations.map(location),
  };
  if (testCase.lua?.packagePath !== undefined) config.lua.packagePath = testCase.lua.packagePath;
  if (testCase.lua?.regexMatchLimit !== undefined) config.lua.regexMatchLimit = testCase.lua.regexMatchLimit;
  if (testCase.lua?.regexCacheMaxEntries !== undefined) config.lua.regexCacheMaxEntries = testCase.lua.regexCacheMaxEntries;
  if (testCase.sharedDicts !== undefined) config.sharedDicts = { ...testCase.sharedDicts };
  if (testCase.init !== undefined) config.init = { lua: testCase.init };
  if (testCase.initWorker !== undefined) config.initWorker = { lua: testCase.initWorker };
  if (testCase.clientBodyBufferSize !== undefined) config.clientBodyBufferSize = testCase.clientBodyBufferSize;
  if (testCase.clientMaxBodySize !== undefined) config.clientMaxBodySize = testCase.clientMaxBodySize;
  if (testCase.upstreams !== undefined) {
    config.upstreams = {};
    for (const [name, up] of Object.entries(testCase.upstreams)) {
      const u = {};
      if (up.servers !== undefined) u.servers = [...up.servers];
      if (up.balancer !== undefined) u.balancer = { lua: up.balancer };
      config.upstreams[name] = u;
    }
  }
  return config;
}
