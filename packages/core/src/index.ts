// Public API of @phasekit/core.

export { createEngine, Engine, DEFAULT_SHUTDOWN_TIMEOUT_S, type EngineOptions, type CloseOptions } from './engine/engine.js';
export { logUnhandledRejections } from './engine/unhandled.js';
export type { EngineExtension, ErrorPageTarget, ExtensionContext, ExtensionGeneration, LocationCompile, RequestControl } from './engine/extension.js';
export { requestControl, requestCpuBudget, setTerminator } from './request/control.js';
// For extensions whose set entries take `$var` arguments the engine expands (as `set` handlers' args).
export { parseTemplate } from './request/vars.js';
export type { Template } from './request/state.js';
export { CpuBudget, DEFAULT_REQUEST_CPU_BUDGET_MS } from './request/cpu-budget.js';
export { parseSize } from './shared-dict/size.js';
export { BINARY_VARS, NGINX_VERSION } from './request/server-vars.js';
export type { TimerCallback, TimerHandle, TimerInfo } from './engine/timers.js';
export { SINGLE_WORKER, type WorkerInfo } from './engine/worker.js';
export type { PhaseRequest, PhasePreset, PhaseOutcome } from './phases/single.js';
export { PhaseSession, type RouteHandlers, type SessionAnswer, type FilteredResponse } from './phases/route.js';
export { MAX_SUBREQUEST_DEPTH, type CaptureOptions, type CaptureResult } from './phases/subrequest.js';
export {
  engineConfigSchema,
  buildConfigSchema,
  parseConfig,
  type SchemaExtension,
  type ParsedConfig,
  type EngineConfig,
  type LocationConfig,
  type HandlerSpec,
  type HandlerFn,
  type SetSpec,
  type SetFn,
  type LogLevelName,
  type RouteConfig,
} from './engine/config.js';
export {
  PHASES,
  REQUEST_PHASES,
  PHASE_BIT,
  PHASE_NGX_NAME,
  PHASE_CONTEXT_NAME,
  PHASE_FACTS,
  phaseMask,
  phaseOfBit,
  ASYNC_PHASES,
  EXIT_UNWINDS_PHASES,
  REQUEST_PHASE_MASK,
  YIELDING_PHASES,
  COSOCKET_PHASES,
  type PhaseFacts,
  type Phase,
  type RequestPhase,
} from './phases/facts.js';
export { API_RULES, apiAllowed, checkApi, disabledMessage, type ApiName } from './phases/api-rules.js';
export {
  ERROR_CODES,
  BrandedError,
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
  CpuBudgetError,
  describeError,
  type ErrorCode,
  type ConfigIssue,
} from './errors.js';
export { NGX_CONSTANTS, LOG_LEVEL_NAMES, type NgxConstants, type LogLevel } from './ngx/constants.js';
export type { Ngx, NgxReq, NgxResp, NgxTimer, NgxWorker, NgxLocation, NgxSsl, NgxBalancer, NgxSocket, BodyFilterArg, Chunk, HeaderValue, Printable } from './ngx/types.js';
export { COSOCKET_DEFAULTS, type TcpCosocket, type UdpCosocket, type RequestSocket, type ConnectOptions, type TlsOptions, type ReadResult, type ReadPattern, type OkResult, type SendResult, type HandshakeResult, type Pending, type CosocketDefaults } from './socket/index.js';
export { checkRequestApi, phaseBitOf } from './ngx/request.js';
export { answerPage, BodyTooLargeError, type HttpExchange, type IncomingHeaders } from './http/exchange.js';
export type { ScriptRuntime, ScriptSpec, HandlerSite, RuntimeContext, CompiledHandler, CompiledSetHandler } from './engine/script-runtime.js';
export { formatLogLine, logMessage, stderrLogger, type Logger, type LogEntry } from './log.js';
export type { EngineEvents, RequestInfo, RequestEndInfo, PhaseInfo, HandlerErrorInfo, UpstreamHealthInfo } from './events.js';
export { systemClock, type Clock } from './clock.js';
export { argsRecord, decodeArgs, encodeArgPairs, encodeArgs, parseArgs, type Args, type ArgsCount, type ArgsInput, type ArgValue, type ParsedArgs } from './text/args.js';
export { escapeUri, unescapeUri, ESCAPE_ARGS, ESCAPE_URI, ESCAPE_URI_COMPONENT } from './text/escape.js';
export { asText, fromBytes, toBytes, type ByteString } from './text/bytes.js';
export { formatNumber } from './text/number.js';
export { defaultPage, reasonPhrase } from './text/status.js';
export * from './shared-dict/index.js';
export { waitingDictMessage } from './ngx/shared-guard.js';
