// ngx.* constants with OpenResty's values: core codes, HTTP statuses and methods, log levels.

export const NGX_CONSTANTS = Object.freeze({
  OK: 0,
  ERROR: -1,
  AGAIN: -2,
  DONE: -4,
  DECLINED: -5,

  HTTP_CONTINUE: 100,
  HTTP_SWITCHING_PROTOCOLS: 101,
  HTTP_OK: 200,
  HTTP_CREATED: 201,
  HTTP_ACCEPTED: 202,
  HTTP_NO_CONTENT: 204,
  HTTP_PARTIAL_CONTENT: 206,
  HTTP_SPECIAL_RESPONSE: 300,
  HTTP_MOVED_PERMANENTLY: 301,
  HTTP_MOVED_TEMPORARILY: 302,
  HTTP_SEE_OTHER: 303,
  HTTP_NOT_MODIFIED: 304,
  HTTP_TEMPORARY_REDIRECT: 307,
  HTTP_PERMANENT_REDIRECT: 308,
  HTTP_BAD_REQUEST: 400,
  HTTP_UNAUTHORIZED: 401,
  HTTP_PAYMENT_REQUIRED: 402,
  HTTP_FORBIDDEN: 403,
  HTTP_NOT_FOUND: 404,
  HTTP_NOT_ALLOWED: 405,
  HTTP_NOT_ACCEPTABLE: 406,
  HTTP_REQUEST_TIMEOUT: 408,
  HTTP_CONFLICT: 409,
  HTTP_GONE: 410,
  HTTP_UPGRADE_REQUIRED: 426,
  HTTP_TOO_MANY_REQUESTS: 429,
  HTTP_CLOSE: 444,
  HTTP_ILLEGAL: 451,
  HTTP_INTERNAL_SERVER_ERROR: 500,
  HTTP_METHOD_NOT_IMPLEMENTED: 501,
  HTTP_BAD_GATEWAY: 502,
  HTTP_SERVICE_UNAVAILABLE: 503,
  HTTP_GATEWAY_TIMEOUT: 504,
  HTTP_VERSION_NOT_SUPPORTED: 505,
  HTTP_INSUFFICIENT_STORAGE: 507,

  HTTP_GET: 2,
  HTTP_HEAD: 4,
  HTTP_POST: 8,
  HTTP_PUT: 16,
  HTTP_DELETE: 32,
  HTTP_MKCOL: 64,
  HTTP_COPY: 128,
  HTTP_MOVE: 256,
  HTTP_OPTIONS: 512,
  HTTP_PROPFIND: 1024,
  HTTP_PROPPATCH: 2048,
  HTTP_LOCK: 4096,
  HTTP_UNLOCK: 8192,
  HTTP_PATCH: 16384,
  HTTP_TRACE: 32768,

  STDERR: 0,
  EMERG: 1,
  ALERT: 2,
  CRIT: 3,
  ERR: 4,
  WARN: 5,
  NOTICE: 6,
  INFO: 7,
  DEBUG: 8,
});

export type NgxConstants = typeof NGX_CONSTANTS;

/** ngx.HTTP_GET … → method name. */
export const METHOD_BY_CODE: ReadonlyMap<number, string> = new Map(
  Object.entries(NGX_CONSTANTS)
    .filter(([k, v]) => k.startsWith('HTTP_') && v >= 2 && v <= 32768 && (v & (v - 1)) === 0 && !/^\d/.test(k))
    .filter(([k]) => ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'MKCOL', 'COPY', 'MOVE', 'OPTIONS', 'PROPFIND', 'PROPPATCH', 'LOCK', 'UNLOCK', 'PATCH', 'TRACE'].includes(k.slice(5)))
    .map(([k, v]) => [v, k.slice(5)]),
);

/** nginx log level names, most severe first, indexed by ngx.* level number. */
export const LOG_LEVEL_NAMES = ['stderr', 'emerg', 'alert', 'crit', 'error', 'warn', 'notice', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVEL_NAMES)[number];
