// The directive table: every directive phasekit reads from an nginx.conf, where it may stand and
// how many arguments it takes; the ones that do not matter in Node (accepted, listed once as
// ignored); and well-known ones that change behaviour and phasekit cannot honour (an error).

export type Context = 'main' | 'events' | 'http' | 'server' | 'location' | 'if' | 'upstream' | 'types';

export interface DirectiveSpec {
  readonly contexts: readonly Context[];
  /** Arguments: [min, max] (max Infinity for "1 or more"). */
  readonly args: readonly [number, number];
  /** Takes a `{ ... }` block of directives. */
  readonly block?: boolean;
}

const any: readonly Context[] = ['main', 'events', 'http', 'server', 'location', 'if', 'upstream'];
const hsl: readonly Context[] = ['http', 'server', 'location'];
const hslIf: readonly Context[] = ['http', 'server', 'location', 'if'];
const sl: readonly Context[] = ['server', 'location'];
const slIf: readonly Context[] = ['server', 'location', 'if'];
const http: readonly Context[] = ['http'];
const many = Infinity;

/** `*_by_lua`, `*_by_lua_block`, `*_by_lua_file` for one phase, in the contexts given. */
function luaTrio(phase: string, contexts: readonly Context[], extraArgs = 0): Record<string, DirectiveSpec> {
  return {
    [`${phase}_by_lua`]: { contexts, args: [1 + extraArgs, extraArgs === 0 ? 1 : many] },
    [`${phase}_by_lua_block`]: { contexts, args: [extraArgs, extraArgs] },
    [`${phase}_by_lua_file`]: { contexts, args: [1 + extraArgs, extraArgs === 0 ? 1 : many] },
  };
}

/** Directives phasekit maps onto its engine config. */
export const MAPPED: Readonly<Record<string, DirectiveSpec>> = {
  events: { contexts: ['main'], args: [0, 0], block: true },
  http: { contexts: ['main'], args: [0, 0], block: true },
  server: { contexts: ['http', 'upstream'], args: [0, many] },
  location: { contexts: ['server', 'location'], args: [1, 2], block: true },
  upstream: { contexts: http, args: [1, 1], block: true },
  if: { contexts: sl, args: [1, many], block: true },
  types: { contexts: hsl, args: [0, 0], block: true },
  worker_processes: { contexts: ['main'], args: [1, 1] },
  error_log: { contexts: ['main', 'http', 'server', 'location'], args: [1, 2] },
  env: { contexts: ['main'], args: [1, 1] },
  // lua-nginx-module
  lua_shared_dict: { contexts: http, args: [2, 2] },
  lua_package_path: { contexts: http, args: [1, 1] },
  lua_code_cache: { contexts: hsl, args: [1, 1] },
  lua_max_pending_timers: { contexts: http, args: [1, 1] },
  lua_max_running_timers: { contexts: http, args: [1, 1] },
  lua_need_request_body: { contexts: hsl, args: [1, 1] },
  lua_check_client_abort: { contexts: hsl, args: [1, 1] },
  ...luaTrio('init', http),
  ...luaTrio('init_worker', http),
  ...luaTrio('exit_worker', http),
  ...luaTrio('set', slIf, 1),
  ...luaTrio('rewrite', ['http', 'server', 'location', 'if']),
  ...luaTrio('access', ['http', 'server', 'location', 'if']),
  ...luaTrio('content', ['location', 'if']),
  ...luaTrio('header_filter', hslIf),
  ...luaTrio('body_filter', hslIf),
  ...luaTrio('log', hslIf),
  ...luaTrio('balancer', ['upstream']),
  ...luaTrio('ssl_certificate', ['http', 'server']),
  // upstream
  keepalive: { contexts: ['upstream'], args: [1, 1] },
  hash: { contexts: ['upstream'], args: [1, 2] },
  least_conn: { contexts: ['upstream'], args: [0, 0] },
  // server
  listen: { contexts: ['server'], args: [1, many] },
  server_name: { contexts: ['server'], args: [1, many] },
  ssl_certificate: { contexts: ['http', 'server'], args: [1, 1] },
  ssl_certificate_key: { contexts: ['http', 'server'], args: [1, 1] },
  // location
  internal: { contexts: ['location'], args: [0, 0] },
  set: { contexts: slIf, args: [2, 2] },
  return: { contexts: slIf, args: [1, 2] },
  rewrite: { contexts: slIf, args: [2, 3] },
  break: { contexts: slIf, args: [0, 0] },
  proxy_pass: { contexts: ['location', 'if'], args: [1, 1] },
  proxy_set_header: { contexts: hsl, args: [2, 2] },
  proxy_connect_timeout: { contexts: hsl, args: [1, 1] },
  proxy_send_timeout: { contexts: hsl, args: [1, 1] },
  proxy_read_timeout: { contexts: hsl, args: [1, 1] },
  proxy_next_upstream: { contexts: hsl, args: [1, many] },
  proxy_next_upstream_tries: { contexts: hsl, args: [1, 1] },
  add_header: { contexts: hslIf, args: [2, 3] },
  default_type: { contexts: hsl, args: [1, 1] },
  root: { contexts: hslIf, args: [1, 1] },
  alias: { contexts: ['location'], args: [1, 1] },
  index: { contexts: hsl, args: [1, many] },
  try_files: { contexts: sl, args: [2, many] },
  client_max_body_size: { contexts: hsl, args: [1, 1] },
  client_body_buffer_size: { contexts: hsl, args: [1, 1] },
  error_page: { contexts: hslIf, args: [2, many] },
  access_log: { contexts: hslIf, args: [1, many] },
  log_format: { contexts: http, args: [2, many] },
  log_not_found: { contexts: hsl, args: [1, 1] },
  absolute_redirect: { contexts: hsl, args: [1, 1] },
  port_in_redirect: { contexts: hsl, args: [1, 1] },
};

/**
 * Directives accepted and ignored: they tune what nginx's workers, buffers and sockets do, which
 * Node does its own way. The value is the note printed once at start.
 */
export const IGNORED: Readonly<Record<string, string>> = Object.fromEntries([
  ...['load_module', 'pid', 'daemon', 'master_process', 'user', 'worker_rlimit_nofile', 'worker_cpu_affinity', 'worker_priority', 'worker_shutdown_timeout', 'working_directory', 'lock_file', 'pcre_jit', 'timer_resolution', 'thread_pool', 'worker_rlimit_core'].map((d) => [d, 'process management']),
  ...['worker_connections', 'use', 'multi_accept', 'accept_mutex', 'accept_mutex_delay'].map((d) => [d, 'event loop']),
  ...['client_body_temp_path', 'proxy_temp_path', 'fastcgi_temp_path', 'uwsgi_temp_path', 'scgi_temp_path', 'proxy_buffering', 'proxy_buffers', 'proxy_buffer_size', 'proxy_busy_buffers_size', 'proxy_max_temp_file_size', 'proxy_request_buffering', 'output_buffers', 'postpone_output', 'client_header_buffer_size', 'large_client_header_buffers', 'client_body_in_file_only', 'client_body_in_single_buffer', 'proxy_http_version'].map((d) => [d, 'buffers and temp files']),
  ...['sendfile', 'sendfile_max_chunk', 'tcp_nopush', 'tcp_nodelay', 'aio', 'directio', 'open_file_cache', 'open_file_cache_valid', 'open_file_cache_min_uses', 'open_file_cache_errors', 'reset_timedout_connection', 'lingering_close', 'lingering_time', 'lingering_timeout'].map((d) => [d, 'socket and file I/O tuning']),
  ...['keepalive_timeout', 'keepalive_requests', 'client_header_timeout', 'client_body_timeout', 'send_timeout', 'resolver_timeout'].map((d) => [d, 'connection timeouts (Node defaults apply)']),
  ...['types_hash_max_size', 'types_hash_bucket_size', 'server_names_hash_bucket_size', 'server_names_hash_max_size', 'variables_hash_max_size', 'variables_hash_bucket_size', 'map_hash_max_size', 'map_hash_bucket_size', 'proxy_headers_hash_max_size', 'proxy_headers_hash_bucket_size'].map((d) => [d, 'hash table sizes']),
  ...['server_tokens', 'log_subrequest', 'open_log_file_cache', 'server_name_in_redirect', 'charset_types', 'underscores_in_headers', 'ignore_invalid_headers', 'merge_slashes', 'msie_padding', 'msie_refresh', 'ssl_protocols', 'ssl_ciphers', 'ssl_prefer_server_ciphers', 'ssl_session_cache', 'ssl_session_timeout', 'ssl_session_tickets', 'ssl_dhparam', 'ssl_ecdh_curve', 'http2', 'gzip_vary', 'gzip_types', 'gzip_proxied', 'gzip_comp_level', 'gzip_min_length', 'gzip_disable', 'gzip_http_version', 'gzip_buffers'].map((d) => [d, 'no effect on what phasekit answers']),
  ...['lua_package_cpath'].map((d) => [d, 'C modules cannot load in the WebAssembly Lua VM']),
  ...['lua_socket_log_errors', 'lua_socket_buffer_size', 'lua_socket_pool_size', 'lua_socket_keepalive_timeout', 'lua_socket_connect_timeout', 'lua_socket_send_timeout', 'lua_socket_read_timeout', 'lua_socket_send_lowat', 'lua_regex_cache_max_entries', 'lua_regex_match_limit', 'lua_http10_buffering', 'lua_transform_underscores_in_response_headers', 'lua_use_default_type', 'lua_malloc_trim', 'lua_sa_restart', 'lua_load_resty_core', 'lua_capture_error_log', 'lua_thread_cache_max_entries', 'lua_worker_thread_vm_pool_size'].map((d) => [d, 'lua-nginx-module tuning phasekit does not need']),
]);

/** Well-known nginx directives that change what is answered and that phasekit does not implement. */
export const UNSUPPORTED = new Set([
  'gzip', 'gunzip', 'gzip_static', 'limit_req', 'limit_req_zone', 'limit_conn', 'limit_conn_zone', 'limit_rate', 'limit_except', 'auth_basic', 'auth_basic_user_file', 'auth_request',
  'fastcgi_pass', 'uwsgi_pass', 'scgi_pass', 'grpc_pass', 'memcached_pass', 'proxy_cache', 'proxy_cache_path', 'proxy_redirect', 'proxy_intercept_errors', 'proxy_hide_header', 'proxy_pass_header', 'proxy_method', 'proxy_set_body', 'proxy_pass_request_body', 'proxy_pass_request_headers', 'proxy_ssl_verify',
  'map', 'geo', 'split_clients', 'ssi', 'sub_filter', 'autoindex', 'allow', 'deny', 'satisfy', 'expires', 'etag', 'if_modified_since', 'charset', 'source_charset', 'ip_hash', 'random', 'stream', 'mail', 'mirror', 'resolver', 'recursive_error_pages', 'internal_redirect', 'chunked_transfer_encoding', 'content_by_lua_ssl', 'ssl_verify_client', 'ssl_client_certificate', 'server_rewrite_by_lua', 'server_rewrite_by_lua_block', 'server_rewrite_by_lua_file', 'access_by_lua_no_postpone', 'rewrite_by_lua_no_postpone', 'uninitialized_variable_warn', 'rewrite_log', 'lua_ssl_trusted_certificate', 'lua_ssl_verify_depth', 'ssl_session_fetch_by_lua_block', 'ssl_session_store_by_lua_block', 'ssl_client_hello_by_lua_block', 'lua_add_variable', 'lua_shared_mem',
]);

export { any as ANY_CONTEXT };
