// Public API of @phasekit/core.

export { createEngine, Engine, type EngineOptions, type CloseOptions } from './engine.js';
export type { TimerCallback, TimerHandle, TimerInfo } from './timers.js';
export type { PhaseRequest, PhasePreset, PhaseOutcome } from './single-phase.js';
export { PhaseSession, type RouteHandlers, type SessionAnswer, type FilteredResponse } from './session.js';
export { MAX_SUBREQUEST_DEPTH, type CaptureOptions, type CaptureResult } from './subrequest.js';
export {
  engineConfigSchema,
  parseConfig,
  type EngineConfig,
  type LocationConfig,
  type HandlerSpec,
  type HandlerFn,
  type SetSpec,
  type SetFn,
  type LogLevelName,
  type RouteConfig,
} from './config.js';
export {
  PHASES,
  REQUEST_PHASES,
  PHASE_BIT,
  PHASE_NGX_NAME,
  PHASE_CONTEXT_NAME,
  phaseMask,
  type Phase,
  type RequestPhase,
} from './phases.js';
export { API_RULES, apiAllowed, checkApi, type ApiName } from './api-rules.js';
export {
  ERROR_CODES,
  PhasekitError,
  ConfigError,
  ApiDisabledError,
  BadArgumentError,
  HeadersSentError,
  UnknownVariableError,
  NoRuntimeError,
  HandlerError,
  RedirectCycleError,
  NoLocationError,
  EngineClosedError,
  BodyNotReadError,
  TaskStoppedError,
  describeError,
  type ErrorCode,
  type ConfigIssue,
} from './errors.js';
export { NGX_CONSTANTS, LOG_LEVEL_NAMES, type NgxConstants, type LogLevel } from './constants.js';
export type { Ngx, NgxReq, NgxResp, NgxTimer, NgxWorker, NgxLocation, NgxSsl, NgxBalancer, BodyFilterArg, Chunk, HeaderValue, Printable } from './ngx.js';
export { checkRequestApi } from './ngx-request.js';
export { BodyTooLargeError, type HttpExchange, type IncomingHeaders } from './exchange.js';
export type { ScriptRuntime, ScriptSpec, HandlerSite, RuntimeContext, CompiledHandler, CompiledSetHandler } from './handler.js';
export { formatLogLine, stderrLogger, type Logger, type LogEntry } from './log.js';
export type { EngineEvents, RequestInfo, RequestEndInfo, PhaseInfo, HandlerErrorInfo, UpstreamHealthInfo } from './events.js';
export { systemClock, type Clock } from './clock.js';
export { decodeArgs, encodeArgs, escapeUri, unescapeUri, type Args, type ArgsInput, type ArgValue } from './args.js';
export { defaultPage, reasonPhrase } from './status.js';
export * from './shared-dict/index.js';
export {
  ACT,
  HaproxyRegistry,
  isHaproxyRuntime,
  luaName,
  methodName,
  parseVarName,
  type ActCode,
  type ActionFn,
  type ActionRuleset,
  type AppletHttp,
  type ConverterFn,
  type FetchFn,
  type HaproxyHost,
  type HaproxyRegistrations,
  type HaproxyRuntime,
  type HaproxyTask,
  type SampleResult,
  type ServiceFn,
  type TaskFn,
  type Txn,
  type TxnHttp,
  type TxnReply,
  type VarValue,
} from './haproxy/index.js';
