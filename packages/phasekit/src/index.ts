// Public API of phasekit: the engine, the node:http adapter and inject(), in one install.

export * from '@phasekit/core';
export * from '@phasekit/node-http';
export { inject, type InjectOptions, type InjectResponse } from '@phasekit/testing';
export { createServer, type PhasekitServer, type ServeOptions } from './serve.js';
