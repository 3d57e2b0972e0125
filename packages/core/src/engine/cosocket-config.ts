// The config's `cosocket` block (lua_socket_* and lua_ssl_trusted_certificate) as the engine's cosocket defaults.

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { COSOCKET_DEFAULTS, type CosocketDefaults } from '../socket/index.js';
import type { ParsedConfig } from './config.js';

/**
 * Defaults in ms from the config's seconds; the trusted certificates are read now (relative to
 * lua.prefix, as nginx resolves paths against its prefix; a missing file is a config error).
 */
export function cosocketDefaults(config: ParsedConfig): CosocketDefaults {
  const c = config.cosocket ?? {};
  const ms = (s: number | undefined, d: number) => (s === undefined ? d : Math.round(s * 1000));
  let trusted: string | undefined;
  if (c.sslTrustedCertificate !== undefined) {
    try {
      trusted = readFileSync(resolve(config.lua?.prefix ?? process.cwd(), c.sslTrustedCertificate), 'utf8');
    } catch (err) {
      throw new ConfigError([{ path: 'cosocket.sslTrustedCertificate', message: `cannot read "${c.sslTrustedCertificate}": ${(err as Error).message}` }], { cause: err });
    }
  }
  return {
    connectTimeout: ms(c.connectTimeout, COSOCKET_DEFAULTS.connectTimeout),
    sendTimeout: ms(c.sendTimeout, COSOCKET_DEFAULTS.sendTimeout),
    readTimeout: ms(c.readTimeout, COSOCKET_DEFAULTS.readTimeout),
    keepaliveTimeout: ms(c.keepaliveTimeout, COSOCKET_DEFAULTS.keepaliveTimeout),
    poolSize: c.poolSize ?? COSOCKET_DEFAULTS.poolSize,
    logErrors: c.logErrors ?? COSOCKET_DEFAULTS.logErrors,
    trustedCertificates: trusted,
  };
}
