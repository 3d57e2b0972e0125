// What the request pipeline needs from its engine; kept as an interface so the pipeline never imports engine.ts.

import type { EventEmitter } from 'eventemitter3';
import type { Clock } from '../clock.js';
import type { LogLevel } from '../ngx/constants.js';
import type { EngineEvents } from '../events.js';
import type { Ngx } from '../ngx/types.js';
import type { RequestState } from '../request/state.js';
import type { AnySharedDict } from '../shared-dict/index.js';
import type { Cosockets } from '../socket/index.js';
import type { WorkerInfo } from './worker.js';

export interface EngineCore {
  readonly clock: Clock;
  readonly worker: WorkerInfo;
  readonly sharedDicts: Readonly<Record<string, AnySharedDict>>;
  readonly events: EventEmitter<EngineEvents>;
  readonly maxRedirects: number;
  /** CPU ms a request may use over all its phases (requestCpuBudgetMs); 0 = no budget. */
  readonly requestCpuBudgetMs: number;
  readonly clientMaxBodySize: number;
  /** Bodies larger than this go to a temp file (nginx's client_body_buffer_size). */
  readonly clientBodyBufferSize: number;
  /** The engine's cosocket defaults, keepalive pools and open sockets. */
  readonly cosockets: Cosockets;
  /** Writes an error-log entry when `level` passes the configured threshold. */
  log(level: LogLevel, message: string, request?: RequestState, err?: unknown): void;
  /** The next request id (ids start at 1; 0 is a request-less run). */
  nextRequestId(): number;
  /** The `ngx` object a request's handlers receive. */
  createNgx(request: RequestState): Ngx;
}
