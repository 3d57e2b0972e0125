// The messages between createWorkers (the main thread) and each worker thread.

import type { SharedDictRegion } from '@phasekit/core';
import type { EngineConfig } from './engine.js';

/** Where a worker gets its config: a file it reads itself, or a cloned object. */
export type ConfigSource = { file: string } | { config: EngineConfig };

/** workerData: everything a worker needs to start. */
export interface WorkerBoot {
  readonly id: number;
  readonly count: number;
  readonly host: string;
  readonly port: number;
  /** The local shared dicts, one region each, made by the main thread. */
  readonly regions: readonly SharedDictRegion[];
  /** Each worker writes its pid at its id (ngx.worker.pids()). */
  readonly pidTable: Int32Array;
  readonly source: ConfigSource;
}

export type ToWorker =
  | { type: 'reload'; seq: number; source: ConfigSource }
  | { type: 'close'; timeout: number | undefined };

export type FromWorker =
  | { type: 'ready'; port: number }
  | { type: 'failed'; message: string }
  | { type: 'reloaded'; seq: number; error: string | undefined };
