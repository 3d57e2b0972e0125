// What the request pipeline needs from its engine; kept as an interface so the pipeline never imports engine.ts.

import type { EventEmitter } from 'eventemitter3';
import type { Clock } from './clock.js';
import type { LogLevel } from './constants.js';
import type { EngineEvents } from './events.js';
import type { ScriptRuntime } from './handler.js';
import type { LocationTable } from './location.js';
import type { CompiledLocation, RequestState } from './request-state.js';
import type { SharedDict } from './shared-dict/index.js';

export interface EngineCore {
  readonly clock: Clock;
  readonly sharedDicts: Readonly<Record<string, SharedDict>>;
  readonly locations: LocationTable<CompiledLocation>;
  readonly events: EventEmitter<EngineEvents>;
  readonly maxRedirects: number;
  /** Script runtimes, told when a request is done. */
  readonly runtimes: readonly ScriptRuntime[];
  readonly clientMaxBodySize: number;
  /** Writes an error-log entry when `level` passes the configured threshold. */
  log(level: LogLevel, message: string, request?: RequestState, err?: unknown): void;
  /** A request ran its log phase. */
  requestDone(): void;
}
