// What the auth plugins (key-auth, basic-auth, jwt) share: Kong's anonymous consumer, and the
// rule that an auth plugin with `anonymous` steps aside when another one already authenticated.

import type { Ngx } from '@phasekit/core';
import { authenticate, authenticatedOf } from '../consumers.js';
import { kongExit, type PluginServices } from './common.js';

/** Kong's: with `anonymous` set, a request another auth plugin authenticated is left alone. */
export function alreadyAuthenticated(ngx: Ngx, anonymous: string | undefined): boolean {
  if (anonymous === undefined) return false;
  const a = authenticatedOf(ngx);
  return a !== undefined && !a.anonymous && a.credential !== undefined;
}

/**
 * No valid credential: the `anonymous` consumer when one is configured (a 500 when it does not
 * exist, as Kong), else the plugin's 401.
 */
export function failAuth(ngx: Ngx, services: PluginServices, plugin: string, anonymous: string | undefined, status: number, message: string | Record<string, unknown>, headers?: Record<string, string>): void {
  if (anonymous === undefined) return kongExit(ngx, status, message, headers);
  const consumer = services.consumers(ngx).byName.get(anonymous);
  if (consumer === undefined) {
    services.log('error', `${plugin}: anonymous consumer "${anonymous}" is configured but doesn't exist`, ngx);
    return kongExit(ngx, 500, 'An unexpected error occurred');
  }
  authenticate(ngx, consumer, undefined, true);
}
