// Public API of @phasekit/nginx: loading an OpenResty nginx.conf, and nginx's own HTTP modules
// (rewrite, add_header, static files, error_page, access_log) as an engine extension.

export { loadNginxConf, mapNginxConf, listenString, type NginxConf, type NginxEngineConfig, type NginxListen, type LoadOptions } from './conf/load.js';
export { parseConf, type Directive, type IncludeReader } from './conf/parser.js';
export { fileIncluder } from './conf/include.js';
export type { IgnoredDirective } from './conf/check.js';
export type { Word, Token } from './conf/lexer.js';
export { readLuaBlock } from './conf/lua-block.js';
export { MAPPED as NGINX_DIRECTIVES, IGNORED as NGINX_IGNORED_DIRECTIVES } from './conf/directives.js';
export { NginxExtension } from './modules/extension.js';
export { nginxConfigSchema, type NginxLocationKeys, type NginxEngineKeys, type RuleInput, type AddHeaderInput, type ErrorPageInput, type AccessLogInput } from './modules/schema.js';
export { COMBINED as COMBINED_LOG_FORMAT } from './modules/access-log.js';
export { NGINX_ERROR_CODES, NginxConfError, type NginxErrorCode } from './errors.js';
