// The results shared-dict stores return: frozen tuples shared by every call (storing allocates
// nothing beyond the entry itself), with OpenResty's error strings.

import type {
  SharedDictExpireResult,
  SharedDictGetResult,
  SharedDictGetStaleResult,
  SharedDictIncrResult,
  SharedDictLlenResult,
  SharedDictPopResult,
  SharedDictPushResult,
  SharedDictStoreResult,
  SharedDictTtlResult,
} from './store.js';

/** Results are frozen and shared: storing allocates nothing beyond the entry itself. */
export function result<T extends readonly unknown[]>(...values: T): T {
  return Object.freeze(values);
}
export const OK = result(true, undefined, false) as SharedDictStoreResult;
export const OK_FORCIBLE = result(true, undefined, true) as SharedDictStoreResult;
export const EXISTS = result(false, 'exists', false) as SharedDictStoreResult;
export const NOT_FOUND = result(false, 'not found', false) as SharedDictStoreResult;
export const NO_MEMORY = result(false, 'no memory', false) as SharedDictStoreResult;
export const ADD_NIL = result(false, 'attempt to add or replace nil values', false) as SharedDictStoreResult;
export const BAD_VALUE_TYPE = result(undefined, 'bad value type', undefined) as SharedDictStoreResult;
export const GET_NIL = result(undefined, undefined) as SharedDictGetResult;
export const GET_LIST = result(undefined, 'value is a list') as SharedDictGetResult;
export const STALE_NIL = result(undefined, undefined, undefined) as SharedDictGetStaleResult;
export const STALE_LIST = result(undefined, 'value is a list', undefined) as SharedDictGetStaleResult;
export const INCR_NOT_FOUND = result(undefined, 'not found', undefined) as SharedDictIncrResult;
export const INCR_NOT_A_NUMBER = result(undefined, 'not a number', undefined) as SharedDictIncrResult;
export const INCR_NO_MEMORY = result(undefined, 'no memory', undefined) as SharedDictIncrResult;
export const PUSH_NO_MEMORY = result(false, 'no memory') as SharedDictPushResult;
export const PUSH_BAD_VALUE_TYPE = result(undefined, 'bad value type') as SharedDictPushResult;
export const NOT_A_LIST = result(undefined, 'value not a list') as SharedDictPushResult & SharedDictPopResult & SharedDictLlenResult;
export const POP_NIL = result(undefined, undefined) as SharedDictPopResult;
export const LLEN_ZERO = result(0, undefined) as SharedDictLlenResult;
export const TTL_NOT_FOUND = result(undefined, 'not found') as SharedDictTtlResult;
export const TTL_NEVER = result(0, undefined) as SharedDictTtlResult;
export const EXPIRE_OK = result(true, undefined) as SharedDictExpireResult;
export const EXPIRE_NOT_FOUND = result(undefined, 'not found') as SharedDictExpireResult;
