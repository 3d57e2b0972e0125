// HTTP status lines and nginx-style default pages for error statuses.

/** Reason phrases as nginx sends them (they differ from Node's in a few places, e.g. 413). */
const REASONS: Record<number, string> = {
  200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'No Content', 206: 'Partial Content',
  301: 'Moved Permanently', 302: 'Moved Temporarily', 303: 'See Other', 304: 'Not Modified',
  307: 'Temporary Redirect', 308: 'Permanent Redirect',
  400: 'Bad Request', 401: 'Unauthorized', 402: 'Payment Required', 403: 'Forbidden', 404: 'Not Found',
  405: 'Not Allowed', 406: 'Not Acceptable', 408: 'Request Time-out', 409: 'Conflict', 410: 'Gone',
  411: 'Length Required', 412: 'Precondition Failed', 413: 'Request Entity Too Large',
  414: 'Request-URI Too Large', 415: 'Unsupported Media Type', 416: 'Requested Range Not Satisfiable',
  421: 'Misdirected Request', 429: 'Too Many Requests',
  500: 'Internal Server Error', 501: 'Not Implemented', 502: 'Bad Gateway', 503: 'Service Temporarily Unavailable',
  504: 'Gateway Time-out', 505: 'HTTP Version Not Supported', 507: 'Insufficient Storage',
};

export function reasonPhrase(status: number): string | undefined {
  return REASONS[status];
}

/** Where nginx's page title differs from the status line's reason phrase. */
const PAGE_TITLES: Record<number, string> = { 302: 'Found', 401: 'Authorization Required' };

/** Statuses nginx answers by closing the connection, sending nothing. */
export const CLOSE_STATUSES: ReadonlySet<number> = new Set([408, 444, 499]);

/** nginx's page for a status: `<html>...<h1>404 Not Found</h1>...</html>`, CRLF line ends. */
function page(status: number, reason: string): string {
  const title = `${status} ${reason}`;
  return (
    `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n` +
    `<center><h1>${title}</h1></center>\r\n<hr><center>phasekit</center>\r\n</body>\r\n</html>\r\n`
  );
}

/** Every page, made once: 3xx redirects and 4xx/5xx errors nginx has a page for (not 304, not 408). */
const PAGES: ReadonlyMap<number, string> = new Map(
  Object.entries(REASONS)
    .map(([code, reason]) => [Number(code), PAGE_TITLES[Number(code)] ?? reason] as const)
    .filter(([code]) => code >= 300 && code !== 304 && code !== 408)
    .map(([code, reason]) => [code, page(code, reason)]),
);

/**
 * The body nginx sends for an error status it has a page for (3xx redirects and 4xx/5xx),
 * or undefined (then the response has no body).
 */
export function defaultPage(status: number): string | undefined {
  return PAGES.get(status);
}
