// A promise a handler rejected and nobody awaited (`Promise.reject()` left behind, a rejected
// promise kept and forgotten) is not tied to any request, so no request can fail for it; Node
// ends the process for it by default. This logs it through the engine instead.

import type { LogLevel } from '../ngx/constants.js';

interface Logs {
  log(level: LogLevel, message: string, request?: undefined, err?: unknown): void;
}

/**
 * Logs every unhandled promise rejection of this thread through `engine`'s logger (level
 * `error`, with its stack) instead of letting Node end the process. Returns the function that
 * removes the listener. `phasekit serve` installs it; an embedding app calls it once for its
 * engine, or keeps its own `process.on('unhandledRejection')` policy.
 */
export function logUnhandledRejections(engine: Logs): () => void {
  const listener = (reason: unknown): void => {
    const text = reason instanceof Error ? `${reason.message}${reason.stack ? `\n${reason.stack}` : ''}` : String(reason);
    engine.log('error', `unhandled promise rejection (not tied to a request, nothing failed for it): ${text}`, undefined, reason);
  };
  process.on('unhandledRejection', listener);
  return () => {
    process.off('unhandledRejection', listener);
  };
}
