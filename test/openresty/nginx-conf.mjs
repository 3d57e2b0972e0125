// One case → one nginx.conf, mechanically: each case key maps to one nginx directive.
// The recorder runs it with `nginx -p <prefix> -c <prefix>/nginx.conf`.

/** A double-quoted nginx string: `\` and `"` escaped (variables still interpolate). */
export function quote(s) {
  return `"${String(s).replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** A single-quoted nginx string for Lua code (set_by_lua with args): no interpolation in Lua code. */
function luaString(code) {
  return `'${code.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** `directive {code}`: the code starts on the directive's line, so Lua line numbers are the case's. */
function luaBlock(directive, code, indent) {
  return `${indent}${directive} {${code}\n${indent}}`;
}

/** Relative entries of a package path are made absolute under `dir` (where the case files live). */
export function absolutePackagePath(path, dir) {
  return path
    .split(';')
    .map((p) => (p === '' || p.startsWith('/') ? p : `${dir}/${p}`))
    .join(';');
}

const PHASE_DIRECTIVES = [
  ['rewrite', 'rewrite_by_lua_block'],
  ['access', 'access_by_lua_block'],
  ['content', 'content_by_lua_block'],
  ['headerFilter', 'header_filter_by_lua_block'],
  ['bodyFilter', 'body_filter_by_lua_block'],
  ['log', 'log_by_lua_block'],
];

function location(loc, ind) {
  const inner = `${ind}  `;
  const lines = [`${ind}location ${matchText(loc.match)} {`];
  if (loc.internal) lines.push(`${inner}internal;`);
  if (loc.defaultType !== undefined) lines.push(`${inner}default_type ${quote(loc.defaultType)};`);
  for (const [k, v] of Object.entries(loc.vars ?? {})) lines.push(`${inner}set $${k} ${quote(v)};`);
  for (const s of loc.set ?? []) {
    if (s.args !== undefined && s.args.length > 0) {
      lines.push(`${inner}set_by_lua $${s.var} ${luaString(s.lua)} ${s.args.map(quote).join(' ')};`);
    } else {
      lines.push(luaBlock(`set_by_lua_block $${s.var}`, s.lua, inner));
    }
  }
  for (const [key, directive] of PHASE_DIRECTIVES) {
    if (loc[key] !== undefined) lines.push(luaBlock(directive, loc[key], inner));
  }
  if (loc.proxyPass !== undefined) lines.push(`${inner}proxy_pass ${loc.proxyPass};`);
  lines.push(`${ind}}`);
  return lines.join('\n');
}

/** `= /x`, `^~ /x`, `~ re`, `~* re`, `@name`, `/prefix`: the modifier bare, the operand quoted. */
function matchText(match) {
  const m = /^(=|\^~|~\*|~)\s*(.*)$/s.exec(match);
  if (m) return `${m[1]} ${quote(m[2])}`;
  if (match.startsWith('@')) return match;
  return quote(match);
}

/**
 * The nginx.conf of one case (placeholders already filled).
 * options: `port` (listen), `prefix` (temp dir: pid, logs, temp paths), `dir` (the suite's folder,
 * for relative `lua.packagePath` entries), `modules` (paths of the .so files to load_module),
 * `lualib` (folders of OpenResty's bundled Lua libraries missing from the nginx build, searched
 * after the case's own path; phasekit ships its own versions of them).
 */
export function nginxConf(testCase, { port, prefix, dir, modules = [], lualib = [] }) {
  const out = [];
  for (const m of modules) out.push(`load_module ${m};`);
  out.push(
    'daemon off;',
    'master_process on;',
    'worker_processes 1;',
    `pid ${prefix}/nginx.pid;`,
    `error_log ${prefix}/error.log info;`,
    'events { worker_connections 256; }',
    'http {',
    '  access_log off;',
    '  log_not_found off;',
    '  server_tokens off;',
    '  default_type text/plain;',
    '  lua_code_cache on;',
    `  client_body_temp_path ${prefix}/client_body;`,
    `  proxy_temp_path ${prefix}/proxy;`,
    `  fastcgi_temp_path ${prefix}/fastcgi;`,
    `  uwsgi_temp_path ${prefix}/uwsgi;`,
    `  scgi_temp_path ${prefix}/scgi;`,
  );
  if (testCase.clientBodyBufferSize !== undefined) out.push(`  client_body_buffer_size ${testCase.clientBodyBufferSize};`);
  if (testCase.clientMaxBodySize !== undefined) out.push(`  client_max_body_size ${testCase.clientMaxBodySize};`);
  const extra = lualib.map((d) => `${d}/?.lua;`).join('');
  if (testCase.lua?.packagePath !== undefined) {
    const path = absolutePackagePath(testCase.lua.packagePath, dir);
    const full = extra === '' ? path : path.includes(';;') ? path.replace(';;', `;${extra};`) : `${path};${extra}`;
    out.push(`  lua_package_path ${quote(full)};`);
  } else if (extra !== '') {
    out.push(`  lua_package_path ${quote(`${extra};`)};`);
  }
  if (testCase.lua?.regexMatchLimit !== undefined) out.push(`  lua_regex_match_limit ${testCase.lua.regexMatchLimit};`);
  if (testCase.lua?.regexCacheMaxEntries !== undefined) out.push(`  lua_regex_cache_max_entries ${testCase.lua.regexCacheMaxEntries};`);
  for (const [name, size] of Object.entries(testCase.sharedDicts ?? {})) out.push(`  lua_shared_dict ${name} ${size};`);
  if (testCase.init !== undefined) out.push(luaBlock('init_by_lua_block', testCase.init, '  '));
  if (testCase.initWorker !== undefined) out.push(luaBlock('init_worker_by_lua_block', testCase.initWorker, '  '));
  for (const [name, up] of Object.entries(testCase.upstreams ?? {})) {
    out.push(`  upstream ${name} {`);
    // balancer_by_lua picks the peer itself; nginx still wants one server line.
    const servers = up.servers ?? (up.balancer !== undefined ? ['0.0.0.1'] : []);
    for (const s of servers) out.push(`    server ${s};`);
    if (up.balancer !== undefined) out.push(luaBlock('balancer_by_lua_block', up.balancer, '    '));
    out.push('  }');
  }
  out.push('  server {', `    listen 127.0.0.1:${port};`, '    server_name localhost;');
  for (const loc of testCase.locations) out.push(location(loc, '    '));
  out.push('  }', '}', '');
  return out.join('\n');
}
