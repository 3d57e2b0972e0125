// Typed engine events (eventemitter3) and their diagnostics_channel twins, `phasekit:*`.

import { channel } from 'node:diagnostics_channel';

export interface RequestInfo {
  id: number;
  method: string;
  uri: string;
  location: string | undefined;
}

export interface RequestEndInfo extends RequestInfo {
  status: number;
  /** Seconds, with milliseconds. */
  requestTime: number;
}

export interface PhaseInfo {
  id: number;
  phase: string;
  location: string;
}

export interface HandlerErrorInfo extends PhaseInfo {
  error: unknown;
}

export interface UpstreamHealthInfo {
  upstream: string;
  /** host:port */
  peer: string;
  healthy: boolean;
}

export interface EngineEvents {
  'request:start': (info: RequestInfo) => void;
  'request:end': (info: RequestEndInfo) => void;
  'phase:start': (info: PhaseInfo) => void;
  'phase:end': (info: PhaseInfo) => void;
  'handler:error': (info: HandlerErrorInfo) => void;
  'upstream:health': (info: UpstreamHealthInfo) => void;
}

/** diagnostics_channel channels, one per event: `phasekit:request:start`, ... */
export const channels = {
  'request:start': channel('phasekit:request:start'),
  'request:end': channel('phasekit:request:end'),
  'phase:start': channel('phasekit:phase:start'),
  'phase:end': channel('phasekit:phase:end'),
  'handler:error': channel('phasekit:handler:error'),
} as const;
