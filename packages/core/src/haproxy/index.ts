// HAProxy's Lua contexts in core: the registry, sample expressions, TXN, AppletHTTP, tasks, and where rules run.

export { ACT, type ActCode, type ActionFn, type ActionRuleset, type AppletHttp, type ConverterFn, type FetchFn, type HaproxyRegistrations, type HaproxyTask, type SampleResult, type ServiceFn, type TaskFn, type Txn, type TxnHttp, type TxnReply, type VarValue } from './types.js';
export { HaproxyRegistry, luaName, methodName, type RegistryKind } from './registry.js';
export { builtinRegistry } from './builtins.js';
export { compileTemplate, hasSample, parseCall, SampleError, type CompiledTemplate } from './sample.js';
export { parseVarName } from './txn.js';
export { HaproxyGeneration, isHaproxyRuntime, type HaproxyHost, type HaproxyRuntime } from './generation.js';
export { httpReqHandler, httpResHandler, serviceHandler, type CompiledRule } from './rules.js';
