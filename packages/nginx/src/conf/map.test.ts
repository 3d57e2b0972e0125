import { describe, expect, it } from 'vitest';
import { NginxConfError } from '../errors.js';
import { mapNginxConf } from './load.js';

const map = (http: string, main = '') => mapNginxConf(`${main}\nhttp {\n${http}\n}\n`, { prefix: '/srv/app' });
const server = (body: string) => `server {\n  listen 127.0.0.1:8080;\n${body}\n}`;
const locations = (http: string) => map(http).config.locations;

function error(http: string, main = ''): string {
  try {
    map(http, main);
  } catch (err) {
    expect(err).toBeInstanceOf(NginxConfError);
    return (err as Error).message;
  }
  return expect.fail('mapped');
}

describe('directives phasekit cannot honour are errors naming file:line', () => {
  it.each([
    ['an unknown directive', server('  frobnicate on;'), 'unknown directive "frobnicate" in nginx.conf:5'],
    ['one that changes behaviour', server('  gzip on;'), 'directive "gzip" is not supported by phasekit (it changes what nginx answers) in nginx.conf:5'],
    ['one in the wrong place', server('  lua_shared_dict d 1m;'), '"lua_shared_dict" directive is not allowed here in nginx.conf:5'],
    ['wrong arguments', server('  location / { return; }'), 'invalid number of arguments in "return" directive in nginx.conf:5'],
    ['a block where none goes', server('  listen { }'), 'directive "listen" is not terminated by ";" in nginx.conf:5'],
    ['a missing block', 'upstream u;', 'directive "upstream" has no opening "{" in nginx.conf:3'],
    ['a non-rewrite directive inside if', server('  location / { if ($arg_a) { proxy_pass http://x; } }'), '"proxy_pass" inside "if" is not supported by phasekit (only set, rewrite, return, break and set_by_lua) in nginx.conf:5'],
    ['a bad rewrite regex', server('  location / { rewrite ^(a /b; }'), /^pcre_compile\(\) failed: .* in nginx\.conf:5$/],
    ['listen ssl without a certificate', 'server {\n  listen 443 ssl;\n}', 'no "ssl_certificate" is defined for the listen ... ssl directive in this server in nginx.conf:3'],
    ['variables in a *_by_lua_file path', server('  location / { content_by_lua_file lua/$host.lua; }'), '"content_by_lua_file": variables in the file path are not supported by phasekit in nginx.conf:5'],
    ['every upstream server down', 'upstream u { server 127.0.0.1:1 down; }', 'every server of upstream "u" is down in nginx.conf:3'],
  ])('%s', (_what, http, message) => {
    if (typeof message === 'string') expect(error(http)).toBe(message);
    else expect(error(http)).toMatch(message);
  });

  it('one ssl_certificate_by_lua per config', () => {
    const twice = `${server('  ssl_certificate_by_lua_block { }')}\n${server('  ssl_certificate_by_lua_block { }')}`;
    expect(error(twice)).toMatch(/ssl_certificate_by_lua\* in more than one server is not supported/);
  });
});

describe('ignored directives', () => {
  it('are accepted and listed once, at their first place', () => {
    const conf = map(`sendfile on;\nsendfile off;\n${server('  tcp_nopush on;\n  location / { sendfile on; }')}`, 'worker_processes 4;\nevents { worker_connections 64; }\npid x.pid;');
    expect(conf.ignored.map((d) => [d.name, d.line])).toEqual([
      ['worker_connections', 2],
      ['pid', 3],
      ['sendfile', 5],
      ['tcp_nopush', 9],
    ]);
    expect(conf.workers).toBe(4);
  });
});

describe('the mapping', () => {
  it('lua directives at the top level', () => {
    const conf = map('lua_shared_dict dogs 10m;\nlua_package_path "$prefix/lib/?.lua;;";\nlua_code_cache off;\nlua_max_pending_timers 10;\nlua_max_running_timers 5;\ninit_by_lua_block { x = 1 }\ninit_worker_by_lua \'y = 2\';\nexit_worker_by_lua_file lua/exit.lua;', 'env HOME;\nerror_log logs/error.log warn;');
    expect(conf.config).toMatchObject({
      sharedDicts: { dogs: '10m' },
      lua: { packagePath: '/srv/app/lib/?.lua;;', codeCache: false, env: ['HOME'], prefix: '/srv/app' },
      maxPendingTimers: 10,
      maxRunningTimers: 5,
      init: { lua: ' x = 1 ' },
      initWorker: { lua: 'y = 2' },
      exitWorker: { luaFile: 'lua/exit.lua' },
      errorLogLevel: 'warn',
      locations: [],
    });
    expect(conf.errorLog).toEqual({ path: 'logs/error.log', level: 'warn' });
  });

  it('upstreams: weights, backup, down, keepalive, hash, least_conn, balancer', () => {
    const conf = map('upstream a { server 10.0.0.1:81 weight=2 max_fails=3 fail_timeout=30s; server 10.0.0.2 backup; server 10.0.0.3:81 down; keepalive 8; }\nupstream b { hash $arg_u consistent; server 10.0.0.4:80; }\nupstream c { least_conn; server 10.0.0.5:80; }\nupstream d { server 0.0.0.1; balancer_by_lua_block { pick() } }');
    expect(conf.config.upstreams).toEqual({
      a: { servers: [{ address: '10.0.0.1:81', weight: 2, maxFails: 3, failTimeout: 30 }, { address: '10.0.0.2:80', backup: true }], keepalive: 8 },
      b: { method: 'hash', hash: '$arg_u', servers: ['10.0.0.4:80'] },
      c: { method: 'least-conn', servers: ['10.0.0.5:80'] },
      d: { servers: ['0.0.0.1:80'], balancer: { lua: ' pick() ' } },
    });
  });

  it('locations inherit from server and http; add_header and error_page lists are replaced, not merged', () => {
    const locs = locations(`default_type text/html;\nadd_header X-Http 1;\nclient_max_body_size 2m;\naccess_by_lua_block { http() }\n${server(`  add_header X-Server 1;
  error_page 404 /404.html;
  root www;
  location /a { content_by_lua_block { a() } }
  location /b { add_header X-B 1; error_page 500 =200 @oops; client_max_body_size 10k; access_by_lua_block { b() } proxy_pass http://u; proxy_set_header Host $host; proxy_read_timeout 5s; }
  location @oops { internal; }`)}`);
    expect(locs[0]).toEqual({ match: '/a', access: { lua: ' http() ' }, content: { lua: ' a() ' }, defaultType: 'text/html', root: 'www', addHeaders: [{ name: 'X-Server', value: '1' }], errorPages: [{ codes: [404], target: '/404.html' }], clientMaxBodySize: '2m' });
    expect(locs[1]).toMatchObject({ match: '/b', access: { lua: ' b() ' }, addHeaders: [{ name: 'X-B', value: '1' }], errorPages: [{ codes: [500], target: '@oops', status: 200 }], clientMaxBodySize: '10k', proxyPass: 'http://u', proxy: { setHeaders: { Host: '$host' }, readTimeout: 5 } });
    expect(locs[2]).toMatchObject({ match: '@oops', internal: true, root: 'www' });
    // No location "/": the server's own settings answer what no location matches.
    expect(locs[3]).toMatchObject({ match: '/', root: 'www', addHeaders: [{ name: 'X-Server', value: '1' }] });
  });

  it('rewrite-module directives keep their order; server-level ones go to every location', () => {
    const [loc] = locations(server(`  rewrite ^/old/(.*)$ /new/$1 last;
  location / {
    set $a "x";
    set_by_lua $b 'return ngx.arg[1]' $a;
    if ($arg_q = "a b") { return 403; }
    if (-f $request_filename) { break; }
    rewrite ^/x$ /y redirect;
    return 301 http://example.com;
  }`));
    expect(loc?.serverRules).toEqual([{ rewrite: '^/old/(.*)$', replacement: '/new/$1', flag: 'last' }]);
    expect(loc?.rules).toEqual([
      { set: 'a', value: 'x' },
      { set: 'b', lua: 'return ngx.arg[1]', args: ['$a'] },
      { if: ['$arg_q', '=', 'a b'], then: [{ return: 403 }] },
      { if: ['-f', '$request_filename'], then: [{ break: true }] },
      { rewrite: '^/x$', replacement: '/y', flag: 'redirect' },
      { return: 301, text: 'http://example.com' },
    ]);
  });

  it('nested locations are flattened after their parent, inheriting its settings', () => {
    const locs = locations(server('  location /a/ { default_type text/x-a; location /a/b/ { return 204; } location ~ \\.png$ { return 200; } }'));
    expect(locs.map((l) => [l.match, l.defaultType])).toEqual([['/a/', 'text/x-a'], ['/a/b/', 'text/x-a'], ['~ \\.png$', 'text/x-a'], ['/', undefined]]);
  });

  it('servers: the first is the top level, the rest virtual hosts; listen addresses are grouped with their certificates', () => {
    const conf = map(`ssl_certificate_key certs/default.key;
server { listen 127.0.0.1:8080; server_name a.test *.a.test; location / { return 200 a; } }
server { listen 8443 ssl default_server; server_name b.test; ssl_certificate certs/b.pem; ssl_certificate_key certs/b.key; location / { return 200 b; } }
server { listen 8443 ssl; server_name c.test; ssl_certificate certs/c.pem; location / { return 200 c; } }`);
    expect(conf.config.serverName).toEqual(['a.test', '*.a.test']);
    expect(conf.config.listen).toEqual(['127.0.0.1:8080']);
    expect(conf.config.servers?.map((s) => [s.serverName, s.listen])).toEqual([
      [['b.test'], ['0.0.0.0:8443 ssl default_server']],
      [['c.test'], ['0.0.0.0:8443 ssl']],
    ]);
    expect(conf.listen).toEqual([
      { host: '127.0.0.1', port: 8080, ssl: false, defaultServer: false, certificates: [] },
      {
        host: '0.0.0.0',
        port: 8443,
        ssl: true,
        defaultServer: false,
        certificates: [
          { names: ['b.test'], certificate: 'certs/b.pem', certificateKey: 'certs/b.key' },
          { names: ['c.test'], certificate: 'certs/c.pem', certificateKey: 'certs/default.key' },
        ],
      },
    ]);
  });

  it('access_log and log_format', () => {
    const conf = map(`log_format short '$status' ' $uri';\naccess_log logs/access.log;\n${server('  location /a { access_log off; }\n  location /b { access_log /dev/stdout short; access_log logs/b.log; }')}`);
    expect(conf.config.logFormats).toEqual({ short: '$status $uri' });
    expect(conf.config.accessLog).toEqual([{ path: 'logs/access.log' }]);
    expect(conf.config.locations.map((l) => l.accessLog)).toEqual([false, [{ path: '/dev/stdout', format: 'short' }, { path: 'logs/b.log' }], [{ path: 'logs/access.log' }]]);
  });

  it('client_max_body_size: the engine reads up to the largest, locations check their own', () => {
    expect(map(`client_max_body_size 1m;\n${server('  location /a { client_max_body_size 50m; }')}`).config.clientMaxBodySize).toBe('50m');
    expect(map(`client_max_body_size 1m;\n${server('  location /a { client_max_body_size 0; }')}`).config.clientMaxBodySize).toBe(Number.MAX_SAFE_INTEGER);
  });
});
