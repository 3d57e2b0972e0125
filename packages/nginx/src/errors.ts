// Error codes of @phasekit/nginx; each is documented in docs/reference/errors.md.

import { BrandedError } from '@phasekit/core';

export const NGINX_ERROR_CODES = {
  PHASEKIT_ERR_NGINX_CONF: 'an nginx.conf could not be read, or holds a directive phasekit cannot honour (the message names file:line)',
} as const;

export type NginxErrorCode = keyof typeof NGINX_ERROR_CODES;

/** A problem in an nginx.conf, named as nginx names it: `unknown directive "x" in /etc/nginx/nginx.conf:12`. */
export class NginxConfError extends BrandedError {
  readonly code: NginxErrorCode = 'PHASEKIT_ERR_NGINX_CONF';
  readonly file: string;
  readonly line: number;

  constructor(message: string, file: string, line: number, options?: { cause?: unknown }) {
    super(`${message} in ${file}:${line}`, options);
    this.name = 'NginxConfError';
    this.file = file;
    this.line = line;
  }
}
