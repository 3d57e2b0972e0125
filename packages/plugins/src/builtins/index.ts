// The built-in plugins, made for one engine generation.

import type { PluginSpec } from '../types.js';
import { basicAuth } from './basic-auth.js';
import type { PluginServices } from './common.js';
import { correlationId } from './correlation-id.js';
import { cors } from './cors.js';
import { ipRestriction } from './ip-restriction.js';
import { jwt } from './jwt.js';
import { keyAuth } from './key-auth.js';
import { prometheus } from './prometheus.js';
import { rateLimiting } from './rate-limiting.js';
import { requestSizeLimiting } from './request-size-limiting.js';
import { requestTransformer } from './request-transformer.js';
import { responseTransformer } from './response-transformer.js';

export const BUILTIN_NAMES: readonly string[] = [
  'correlation-id',
  'cors',
  'jwt',
  'key-auth',
  'basic-auth',
  'ip-restriction',
  'request-size-limiting',
  'rate-limiting',
  'request-transformer',
  'response-transformer',
  'prometheus',
];

export function builtinPlugins(services: PluginServices): PluginSpec[] {
  return [
    correlationId(),
    cors(),
    jwt(services),
    keyAuth(services),
    basicAuth(services),
    ipRestriction(),
    requestSizeLimiting(),
    rateLimiting(services),
    requestTransformer(),
    responseTransformer(),
    prometheus(services),
  ];
}
