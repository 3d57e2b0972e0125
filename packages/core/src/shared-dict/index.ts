// The shared-dict API of @phasekit/core: OpenResty's ngx.shared.DICT.

export { SharedDict, SHARED_DICT_OVERHEAD } from './shared-dict.js';
export type { SharedDictOptions, SharedDictRegion } from './shared-dict.js';
export { parseSize } from './size.js';
export type {
  AsyncSharedDictStore,
  SharedDictExpireResult,
  SharedDictGetResult,
  SharedDictGetStaleResult,
  SharedDictIncrResult,
  SharedDictKey,
  SharedDictListValue,
  SharedDictLlenResult,
  SharedDictPopResult,
  SharedDictPushResult,
  SharedDictStore,
  SharedDictStoreResult,
  SharedDictTtlResult,
  SharedDictValue,
} from './store.js';
