// Public API of @phasekit/plugins: Kong-style phase plugins (Lua or TypeScript), the built-in
// gateway plugins, and dynamic routes, as an engine extension.

export { PluginsExtension, BUILTIN_PLUGINS, type PluginsOptions } from './extension.js';
export { definePlugin, type Plugin, type PluginDefinition, type PluginMethods } from './define.js';
export { gatewayBalancer } from './gateway/balancer.js';
export { pluginsConfigSchema, type PluginsEngineKeys, type PluginsLocationKeys, type RoutesLoader } from './config-schema.js';
export { resolveOrder, type OrderItem } from './order.js';
export { pluginTiming, type PluginTimingInfo } from './chain.js';
export { authenticatedOf, type Authenticated, type Consumer, type Credential } from './consumers.js';
export { validateKong, type KongField, type PatternTest } from './kong-schema.js';
export { ROUTES_KEY, VERSION_KEY } from './gateway/gateway.js';
export { parseDeclarative, type Declarative } from './gateway/declarative.js';
export type { ChainDescription } from './generation.js';
export { PLUGIN_ERROR_CODES, PluginError, PluginDefinitionError, PluginOrderError, RoutesError, type PluginErrorCode } from './errors.js';
export type { PluginEntry, ConsumerConfig, PluginPhase, ConfIssue } from './types.js';
