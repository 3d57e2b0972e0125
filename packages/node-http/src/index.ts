// Public API of @phasekit/node-http.

export { createHandler, type NodeHandler, type NextFunction } from './handler.js';
export { NodeExchange } from './exchange.js';
export { createUpgradeHandler, UpgradeExchange, type UpgradeHandler } from './upgrade.js';
export { createSNICallback, type SNICallback } from './sni.js';
export { parsedBody } from './parsed-body.js';
