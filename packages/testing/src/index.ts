// Public API of @phasekit/testing.

export { inject, type InjectOptions, type InjectResponse } from './inject.js';
export { createClock, type FakeClock } from './clock.js';
