// Public API of @phasekit/express.

export { phasekit, type PhasekitMiddlewareOptions } from './middleware.js';
