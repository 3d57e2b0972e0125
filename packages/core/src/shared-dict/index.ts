// The shared-dict API of @phasekit/core: OpenResty's ngx.shared.DICT.

export { SharedDict, SHARED_DICT_OVERHEAD } from './shared-dict.js';
export type { SharedDictOptions, SharedDictRegion } from './shared-dict.js';
export { parseSize } from './size.js';
export { isAsyncStore } from './store.js';
export { RedisSharedDict, type RedisSharedDictOptions } from './redis/redis-dict.js';
export { RedisConnection, type RedisConnectionOptions } from './redis/connection.js';
export type {
  AnySharedDict,
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
