// Public API of @phasekit/fastify.

export { phasekit, type PhasekitPluginOptions } from './plugin.js';
export { fastifyLogger, type PinoLikeLogger } from './logger.js';
