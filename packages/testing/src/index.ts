// Public API of @phasekit/testing.

export { inject, type InjectOptions, type InjectResponse } from './inject.js';
export { createClock, type FakeClock } from './clock.js';
export {
  runPhase,
  createSharedDicts,
  type RunPhaseOptions,
  type RunPhaseResult,
  type RunPhaseLog,
  type SharedDictInput,
  type SetScript,
} from './run-phase.js';
