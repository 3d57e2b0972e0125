// nginx.conf as it is: each case is the http block's text, read by nginx and by phasekit
// (loadNginxConf's mapping), covering the grammar, the Lua directives and nginx's own modules
// phasekit maps (rewrite, headers, static files, error_page, access_log, upstreams, virtual hosts).

/** One server on the case's port, named localhost (what the client sends as Host). */
const server = (body, http = '') => `${http}
  server {
    listen 127.0.0.1:$PORT;
    server_name localhost;
${body}
  }`;

const get = (path, headers) => (headers === undefined ? { path } : { path, headers });

const STATIC = {
  'html/index.html': '<p>home</p>\n',
  'html/a.txt': 'hello\n',
  'html/page.html': '<p>page</p>\n',
  'html/dir/index.html': '<p>dir</p>\n',
  'html/noidx/x.txt': 'x\n',
  'html/err.html': 'custom error page\n',
  'html/data.json': '{"a":1}\n',
};

export default [
  // The grammar
  {
    name: 'conf: a Lua block holding braces in strings, long brackets and comments',
    conf: server(`    location = / {
      content_by_lua_block {
        local s = "}" .. '{' .. [[ } ]] .. [==[ ]] } ]==] --[==[ } ]==]
        -- a } in a comment {
        local t = { a = { 1, 2 }, "}" }
        ngx.say(s, " ", #t, " ", t.a[2], " ", t[1], " ", "\\"}\\"")
      }
    }`),
    requests: [{}],
  },
  {
    name: 'conf: Lua line numbers start on the line of the brace',
    conf: server(`    location = / { content_by_lua_block { ngx.say(debug.getinfo(1, "l").currentline)
        ngx.say(debug.getinfo(1, "l").currentline)
      }
    }`),
    requests: [{}],
  },
  {
    name: 'conf: quoting and escapes in arguments',
    conf: server(`    location = / {
      set $a 'a\\tb\\nc\\\\d\\e';
      set $b "q\\"r s\${a}t";
      set $c it\\'s;
      content_by_lua_block { ngx.say(ngx.var.a, "|", ngx.var.b, "|", ngx.var.c) }
    }`),
    requests: [{}],
  },
  {
    name: 'conf: comments, and # inside a word',
    conf: server(`    # a comment line { }
    location = / { # after an opening brace
      set $a x#y; # a comment after a directive
      content_by_lua_block { ngx.say(ngx.var.a) } # after a block
    }`),
    requests: [{}],
  },
  {
    name: 'conf: content_by_lua with a quoted string',
    conf: server(`    location = / { content_by_lua 'ngx.say("it\\'s ", [[a]], "\\\\\\\\")'; }`),
    requests: [{}],
  },
  {
    name: 'conf: *_by_lua_file relative to the prefix',
    files: { 'lua/content.lua': 'ngx.say("content from a file, x=", ngx.var.x, " ctx=", ngx.ctx.r)\n', 'lua/rewrite.lua': 'ngx.ctx.r = "rw"\n', 'lua/set.lua': 'return ngx.arg[1] .. "!"\n' },
    conf: server(`    location = / {
      set_by_lua_file $x lua/set.lua $arg_v;
      rewrite_by_lua_file lua/rewrite.lua;
      content_by_lua_file lua/content.lua;
    }`),
    requests: [get('/?v=7')],
  },
  {
    name: 'conf: include with a glob, in sorted order',
    files: {
      'conf.d/a.conf': 'lua_shared_dict a 1m;\n',
      'conf.d/b.conf': 'init_by_lua_block { ngx.shared.a:set("order", "b ran last") }\n',
      'locations/x.loc': 'location = /x { content_by_lua_block { ngx.say(ngx.shared.a:get("order")) } }\n',
      'locations/y.loc': 'location = /y { return 200 "y\\n"; }\n',
    },
    conf: server('    include locations/*.loc;', '  include conf.d/*.conf;'),
    requests: [get('/x'), get('/y')],
  },
  { name: 'conf: a missing semicolon does not start', conf: server('    location = / { return 200 "x" }'), requests: [{}] },
  { name: 'conf: an unknown directive does not start', conf: server('    location = / { no_such_directive on; }'), requests: [{}] },
  { name: 'conf: a directive in the wrong place does not start', conf: server('    location = / { lua_shared_dict d 1m; }'), requests: [{}] },
  { name: 'conf: a missing include does not start', conf: server('    include missing.conf;'), requests: [{}] },
  { name: 'conf: an unfinished Lua block does not start', conf: server('    location = / { content_by_lua_block { ngx.say("}) } }'), requests: [{}] },
  {
    name: 'conf: directives that do not matter in Node are accepted',
    conf: server(
      '    sendfile on; tcp_nopush on; tcp_nodelay on; keepalive_timeout 65; keepalive_requests 100;\n    location = / { open_file_cache off; return 200 "ok\\n"; }',
      '  types_hash_max_size 2048; server_names_hash_bucket_size 64; lua_socket_log_errors off; lua_regex_cache_max_entries 512; reset_timedout_connection on;',
    ),
    requests: [{}],
  },

  // lua-nginx-module's directives
  {
    name: 'conf: lua_shared_dict, init_by_lua and init_worker_by_lua',
    conf: server(
      '    location = / { content_by_lua_block { ngx.say(ngx.shared.dogs:get("Tom"), " ", ngx.shared.dogs:get("worker"), " ", ngx.shared.cats:capacity()) } }',
      '  lua_shared_dict dogs 1m;\n  lua_shared_dict cats 100k;\n  init_by_lua_block { ngx.shared.dogs:set("Tom", 56) }\n  init_worker_by_lua_block { ngx.shared.dogs:set("worker", ngx.get_phase()) }',
    ),
    requests: [{}],
  },
  {
    name: 'conf: lua_package_path with $prefix and ;;',
    files: { 'lib/greet.lua': 'return { hi = function(n) return "hi " .. n end }\n' },
    conf: server('    location = / { content_by_lua_block { ngx.say(require("greet").hi("conf")) } }', '  lua_package_path "$prefix/lib/?.lua;;";'),
    requests: [{}],
  },
  {
    name: 'conf: set_by_lua with arguments and set_by_lua_block, in order with set',
    conf: server(`    location = / {
      set $a "A";
      set_by_lua $b 'return ngx.arg[1] .. ngx.arg[2] .. #ngx.arg' $a "-$arg_q";
      set $c "$b+";
      set_by_lua_block $d { return ngx.var.c .. ngx.get_phase() }
      content_by_lua_block { ngx.say(ngx.var.b, " ", ngx.var.c, " ", ngx.var.d) }
    }`),
    requests: [get('/?q=x')],
  },
  {
    name: 'conf: phase handlers of the server level, inherited or replaced',
    conf: server(`    access_by_lua_block { ngx.ctx.who = "server access" }
    header_filter_by_lua_block { ngx.header["X-Filter"] = "server" }
    location = /inherit { content_by_lua_block { ngx.say(ngx.ctx.who) } }
    location = /own {
      access_by_lua_block { ngx.ctx.who = "location access" }
      header_filter_by_lua_block { ngx.header["X-Filter"] = "location" }
      content_by_lua_block { ngx.say(ngx.ctx.who) }
    }`, '  rewrite_by_lua_block { ngx.ctx.http = true }'),
    requests: [get('/inherit'), get('/own')],
  },
  {
    name: 'conf: rewrite, access, content, filters and log in order',
    conf: server(`    location = / {
      rewrite_by_lua_block { ngx.ctx.t = { "rewrite" } }
      access_by_lua_block { table.insert(ngx.ctx.t, "access") }
      content_by_lua_block { table.insert(ngx.ctx.t, "content") ngx.say(table.concat(ngx.ctx.t, ",")) }
      header_filter_by_lua_block { ngx.header["X-Phases"] = table.concat(ngx.ctx.t, ",") .. ",header_filter" }
      body_filter_by_lua_block { if ngx.arg[2] then ngx.arg[1] = ngx.arg[1] .. "eof\\n" end }
      log_by_lua_block { ngx.shared.d:set("log", ngx.var.status) }
    }
    location = /log { content_by_lua_block { ngx.say(ngx.shared.d:get("log")) } }`, '  lua_shared_dict d 1m;'),
    requests: [get('/'), get('/log')],
  },
  {
    name: 'conf: lua_need_request_body',
    conf: server(`    location = / {
      lua_need_request_body on;
      content_by_lua_block { ngx.say(ngx.req.get_body_data()) }
    }`),
    requests: [{ method: 'POST', path: '/', body: 'a=1&b=2' }],
  },
  {
    name: 'conf: lua_check_client_abort',
    conf: server(`    location = /on {
      lua_check_client_abort on;
      content_by_lua_block { local ok, err = ngx.on_abort(function() end) ngx.say(ok, " ", err) }
    }
    location = /off { content_by_lua_block { local ok, err = ngx.on_abort(function() end) ngx.say(ok, " ", err) } }`),
    requests: [{ path: '/on' }, { path: '/off' }],
  },
  {
    name: 'conf: lua_max_pending_timers',
    conf: server('    location = / { content_by_lua_block { local ok1 = ngx.timer.at(10, function() end) local ok2, err = ngx.timer.at(10, function() end) ngx.say(ok1 ~= nil, " ", ok2, " ", err) } }', '  lua_max_pending_timers 1;'),
    requests: [{}],
  },

  // Upstreams and the proxy
  {
    name: 'conf: upstream servers, down and backup; proxy_set_header and timeouts',
    conf: server(`    location /api/ {
      proxy_set_header Host "backend.test";
      proxy_set_header X-Custom "v-$arg_a";
      proxy_connect_timeout 5s;
      proxy_read_timeout 30;
      proxy_pass http://up/echo/;
    }
    location /echo/ { content_by_lua_block { ngx.say(ngx.var.uri, " ", ngx.var.http_host, " ", ngx.var.http_x_custom, " ", ngx.var.args) } }`,
    `  upstream up {
    server 127.0.0.1:$PORT weight=2 max_fails=3 fail_timeout=10s;
    server 127.0.0.1:$DEAD_PORT down;
    server 127.0.0.1:$DEAD_PORT backup;
    keepalive 4;
  }`),
    requests: [get('/api/x?a=1')],
  },
  {
    name: 'conf: proxy_next_upstream goes on to the next server',
    conf: server(`    location = / { proxy_next_upstream error timeout; proxy_pass http://up/ok; }
    location = /ok { return 200 "reached\\n"; }`,
    `  upstream up {
    server 127.0.0.1:$DEAD_PORT;
    server 127.0.0.1:$PORT;
  }`),
    requests: [{}],
  },
  {
    name: 'conf: proxy_pass with variables',
    conf: server(`    location = / { set $backend "127.0.0.1:$PORT"; proxy_pass http://$backend/target; }
    location = /target { content_by_lua_block { ngx.say("target ", ngx.var.request_uri) } }`),
    requests: [get('/?k=v')],
  },
  {
    name: 'conf: balancer_by_lua_block picks the peer',
    conf: server(`    location = / { proxy_pass http://lb/picked; }
    location = /picked { return 200 "picked\\n"; }`,
    `  upstream lb {
    server 0.0.0.1;
    balancer_by_lua_block {
      local b = require "ngx.balancer"
      assert(b.set_current_peer("127.0.0.1", $PORT))
    }
  }`),
    requests: [{}],
  },
  {
    name: 'conf: hash and least_conn upstreams',
    conf: server(`    location = /h { proxy_pass http://hashed/end; }
    location = /l { proxy_pass http://least/end; }
    location = /end { return 200 "end\\n"; }`,
    `  upstream hashed { hash $arg_user consistent; server 127.0.0.1:$PORT; }
  upstream least { least_conn; server 127.0.0.1:$PORT; }`),
    requests: [get('/h?user=a'), get('/l')],
  },

  // Servers and locations
  {
    name: 'conf: virtual hosts by exact, wildcard and regex names, else the default server',
    conf: `  server {
    listen 127.0.0.1:$PORT;
    server_name first.test;
    location / { return 200 "first $server_name\\n"; }
  }
  server {
    listen 127.0.0.1:$PORT default_server;
    server_name default.test;
    location / { return 200 "default $server_name\\n"; }
  }
  server {
    listen 127.0.0.1:$PORT;
    server_name exact.test *.wild.test www.tail.*;
    location / { return 200 "names $server_name $host\\n"; }
  }
  server {
    listen 127.0.0.1:$PORT;
    server_name ~^api-(?<ver>v\\d+)\\.re\\.test$;
    location / { return 200 "regex $ver\\n"; }
  }`,
    requests: [
      get('/', { Host: 'first.test' }),
      get('/', { Host: 'exact.test' }),
      get('/', { Host: 'a.b.wild.test' }),
      get('/', { Host: 'www.tail.org:8080' }),
      get('/', { Host: 'api-v2.re.test' }),
      get('/', { Host: 'nobody.test' }),
    ],
  },
  {
    name: 'conf: location modifiers and nested locations',
    conf: server(`    location = /exact { return 200 "exact\\n"; }
    location ^~ /static/ { return 200 "prefix-stop\\n"; }
    location ~ \\.php$ { return 200 "regex\\n"; }
    location ~* \\.JPG$ { return 200 "regex-caseless\\n"; }
    location /outer/ {
      location /outer/inner/ { return 200 "nested\\n"; }
      return 200 "outer\\n";
    }
    location / { return 200 "root\\n"; }`),
    requests: [get('/exact'), get('/exact/more'), get('/static/x.php'), get('/a/b.php'), get('/pic.jpg'), get('/outer/x'), get('/outer/inner/y'), get('/other')],
  },
  {
    name: 'conf: @named and internal locations',
    conf: server(`    location = / { content_by_lua_block { ngx.exec("@named") } }
    location @named { content_by_lua_block { ngx.say("named ", ngx.var.uri) } }
    location = /hidden { internal; return 200 "hidden\\n"; }
    location = /via { content_by_lua_block { ngx.exec("/hidden") } }`),
    requests: [get('/'), get('/hidden'), get('/via')],
  },

  // The rewrite module
  {
    name: 'conf: return with text, codes, redirects and a URL',
    conf: server(`    port_in_redirect off;
    location = /text { return 200 "uri=$uri arg=$arg_a\\n"; }
    location = /created { return 201 created; }
    location = /empty { return 204; }
    location = /page { return 404; }
    location = /textpage { return 404 "not here\\n"; }
    location = /moved { return 301 /new$is_args$args; }
    location = /away { return 302 http://example.com/x; }
    location = /url { return http://example.com$request_uri; }
    location = /close { return 444; }`),
    requests: [get('/text?a=1'), get('/created'), get('/empty'), get('/page'), get('/textpage'), get('/moved?q=2'), get('/away'), get('/url?z=1'), get('/close')],
  },
  {
    name: 'conf: rewrite with last, break, redirect, permanent and arguments',
    conf: server(`    port_in_redirect off;
    location /last/ { rewrite ^/last/(.*)$ /show/$1?from=last last; return 500; }
    location /break/ { rewrite ^/break/(.*)$ /show/$1 break; content_by_lua_block { ngx.say("stayed in break: ", ngx.var.uri, " ", ngx.var.args) } }
    location /redir/ { rewrite ^/redir/(.*)$ /show/$1 redirect; }
    location /perm/ { rewrite ^/perm/(.*)$ /show/$1?p=1 permanent; }
    location /drop/ { rewrite ^/drop/(.*)$ /show/$1? last; }
    location /url/ { rewrite ^/url/(.*)$ http://example.com/$1; }
    location /show/ { content_by_lua_block { ngx.say("show ", ngx.var.uri, " ", ngx.var.args, " ", ngx.var.request_uri) } }`),
    requests: [get('/last/a?x=1'), get('/break/b?x=2'), get('/redir/c?x=3'), get('/perm/d?x=4'), get('/drop/e?x=5'), get('/url/f?x=6')],
  },
  {
    name: 'conf: rewrite without a flag goes on, then searches the locations again',
    conf: server(`    location /a/ {
      rewrite ^/a/(.*)$ /b/$1;
      rewrite ^/b/(.*)$ /c/$1;
      set $seen "after both";
      rewrite_by_lua_block { ngx.say("not reached") }
    }
    location /c/ { content_by_lua_block { ngx.say(ngx.var.uri, " ", ngx.var.seen) } }`),
    requests: [get('/a/x')],
  },
  {
    name: 'conf: rewrite rules of the server level run before the location is chosen',
    conf: server(`    rewrite ^/old/(.*)$ /new/$1 last;
    if ($arg_deny) { return 403; }
    location /old/ { return 200 "old location\\n"; }
    location /new/ { return 200 "new $uri\\n"; }`),
    requests: [get('/old/page'), get('/new/page?deny=1')],
  },
  {
    name: 'conf: if as nginx evaluates it',
    files: { 'html/exists.txt': 'x\n' },
    conf: server(`    location = / {
      set $r "";
      if ($arg_a) { set $r "$r a"; }
      if ($arg_b = yes) { set $r "$r b=yes"; }
      if ($arg_b != yes) { set $r "$r b!=yes"; }
      if ($arg_c ~ ^(\\w+)-(\\d+)$) { set $r "$r c:$1:$2"; }
      if ($http_x_k ~* ^VAL) { set $r "$r k"; }
      if ($arg_d !~ ^z) { set $r "$r d!~z"; }
      if (-f $document_root/exists.txt) { set $r "$r file"; }
      if (!-e $document_root/none.txt) { set $r "$r nofile"; }
      if (-d $document_root) { set $r "$r dir"; }
      if ($arg_stop) { return 418; }
      return 200 "$r\\n";
    }`),
    requests: [get('/?a=1&b=yes&c=ab-12', { 'X-K': 'value' }), get('/?a=0&b=no&d=zz'), get('/?stop=1')],
  },
  {
    name: 'conf: variables set anywhere exist everywhere',
    conf: server(`    location = /a { set $shared "from a"; return 200 "a\\n"; }
    location = /b { content_by_lua_block { ngx.say("[", ngx.var.shared, "]") ngx.var.shared = "written in b" ngx.say(ngx.var.shared) } }`),
    requests: [get('/b')],
  },
  {
    name: 'conf: variables survive rewrite last and ngx.exec',
    conf: server(`    location = /start { set $v "kept"; rewrite ^ /end last; }
    location = /lua { set $v "kept by exec"; content_by_lua_block { ngx.exec("/end") } }
    location = /end { content_by_lua_block { ngx.say(ngx.var.v) } }`),
    requests: [get('/start'), get('/lua')],
  },

  // Headers, types, static files
  {
    name: 'conf: add_header, always, inheritance, after header_filter_by_lua',
    conf: server(`    add_header X-Server "s";
    location = /inherit { return 200 "i\\n"; }
    location = /own {
      add_header X-Own "$uri";
      add_header X-Always "yes" always;
      add_header X-Empty "$arg_none";
      header_filter_by_lua_block { ngx.header["X-Seen-By-Lua"] = tostring(ngx.header["X-Own"]) }
      content_by_lua_block { ngx.header["X-Own"] = "from lua" ngx.say("own") }
    }
    location = /missing { add_header X-Own "o"; add_header X-Always "yes" always; return 404; }`),
    requests: [get('/inherit'), get('/own'), get('/missing')],
  },
  {
    name: 'conf: default_type, and types for static files',
    files: STATIC,
    conf: server(`    default_type application/octet-stream;
    location = /lua { content_by_lua_block { ngx.say("x") } }
    location = /typed { default_type text/x-mine; content_by_lua_block { ngx.say("y") } }
    location / { }`, '  types { text/html html; application/json json; text/plain txt; }'),
    requests: [get('/lua'), get('/typed'), get('/page.html'), get('/data.json'), get('/a.txt')],
  },
  {
    name: 'conf: root, index and static files',
    files: STATIC,
    conf: server(`    port_in_redirect off;
    location / { index index.html; }`),
    requests: [
      get('/a.txt'),
      get('/'),
      get('/dir'),
      get('/dir?x=1'),
      get('/dir/'),
      get('/noidx/'),
      get('/missing.txt'),
      { method: 'HEAD', path: '/a.txt' },
      get('/a.txt', { 'If-None-Match': '"5e0d5da5-6"' }),
      get('/a.txt', { 'If-Modified-Since': 'Thu, 02 Jan 2020 03:04:05 GMT' }),
      { method: 'POST', path: '/a.txt', body: 'x' },
      { method: 'DELETE', path: '/a.txt' },
    ],
  },
  {
    name: 'conf: a missing static file is logged unless log_not_found is off',
    files: STATIC,
    log: true,
    conf: server(`    location /quiet/ { log_not_found off; }
    location / { }`),
    requests: [get('/missing.txt'), get('/quiet/missing.txt'), get('/noidx/')],
  },
  {
    name: 'conf: alias',
    files: STATIC,
    conf: server('    location /files/ { alias html/; }'),
    requests: [get('/files/a.txt'), get('/files/dir/')],
  },
  {
    name: 'conf: try_files',
    files: STATIC,
    conf: server(`    location / { try_files $uri $uri/ /fallback?from=$uri; }
    location /strict/ { try_files $uri =404; }
    location /named/ { try_files /nope @backend; }
    location = /fallback { content_by_lua_block { ngx.say("fallback ", ngx.var.args) } }
    location @backend { content_by_lua_block { ngx.say("backend ", ngx.var.uri) } }`),
    requests: [get('/a.txt'), get('/dir/'), get('/missing'), get('/strict/x'), get('/named/y')],
  },
  {
    name: 'conf: client_max_body_size per location',
    conf: server(`    location = /small { client_max_body_size 10; content_by_lua_block { ngx.req.read_body() ngx.say(#ngx.req.get_body_data()) } }
    location = /big { client_max_body_size 1k; content_by_lua_block { ngx.req.read_body() ngx.say(#ngx.req.get_body_data()) } }`),
    requests: [{ method: 'POST', path: '/small', body: 'x'.repeat(20) }, { method: 'POST', path: '/big', body: 'x'.repeat(20) }, { method: 'POST', path: '/small', body: 'x'.repeat(5) }],
  },
  {
    name: 'conf: error_page to a file, with =status, to a named location, a URL',
    files: STATIC,
    conf: server(`    location = /plain { error_page 404 /err.html; return 404; }
    location = /ok { error_page 404 =200 /err.html; return 404; }
    location = /named { error_page 403 404 = @fallback; return 403; }
    location @fallback { content_by_lua_block { ngx.status = 202 ngx.say("fallback for ", ngx.var.uri, " ", ngx.req.get_method()) } }
    location = /missing { error_page 404 /nope.html; return 404; }
    location = /lua { error_page 500 /err.html; content_by_lua_block { error("boom") } }
    location = /away { error_page 404 http://example.com/404; return 404; }
    location = /post { error_page 405 /show; return 405; }
    location = /show { content_by_lua_block { ngx.say(ngx.req.get_method(), " ", ngx.var.uri) } }`),
    requests: [get('/plain'), get('/ok'), get('/named'), get('/missing'), get('/lua'), get('/away'), { method: 'POST', path: '/post', body: 'b' }],
  },

  // Logs
  {
    name: 'conf: access_log with log_format, to a file',
    files: { 'logs/': '' },
    conf: server(`    location = /hit { access_log logs/custom.log custom; return 200 "hit\\n"; }
    location = /quiet { access_log off; return 200 "quiet\\n"; }
    location = /plain { return 200 "plain\\n"; }
    location = /read { access_log off; content_by_lua_block {
      local f = io.open(ngx.config.prefix() .. "logs/custom.log") ngx.print(f:read("*a")) f:close()
      local c = io.open(ngx.config.prefix() .. "logs/combined.log") local line = c:read("*l") c:close()
      ngx.say((line:gsub("%[[^%]]+%]", "[time]")))
    } }`,
    `  log_format custom '$request $status $body_bytes_sent "$http_x_a" $arg_q|$uri';
  access_log logs/combined.log;`),
    requests: [get('/hit?q=1', { 'X-A': 'quote " and \\\\ back' }), get('/quiet'), get('/hit'), get('/plain?p=1'), get('/read')],
  },
  {
    name: 'conf: error_log level',
    log: true,
    conf: server('    location = / { content_by_lua_block { ngx.log(ngx.ERR, "an error, below crit") ngx.log(ngx.CRIT, "a crit") ngx.say("logged") } }', '  error_log error.log crit;'),
    requests: [{}],
  },
];
