// Public API of @phasekit/haproxy: HAProxy's Lua contexts as an engine extension.

export { HaproxyExtension, haproxyConfigSchema, type HaproxyLocationKeys } from './extension.js';
export {
  ACT,
  type ActCode,
  type ActionFn,
  type ActionRuleset,
  type AppletHttp,
  type ConverterFn,
  type FetchFn,
  type HaproxyRegistrations,
  type HaproxyTask,
  type SampleResult,
  type ServiceFn,
  type TaskFn,
  type Txn,
  type TxnHttp,
  type TxnReply,
  type VarValue,
} from './types.js';
export { HaproxyRegistry, luaName, methodName, type RegistryKind } from './registry.js';
export { parseVarName } from './txn.js';
