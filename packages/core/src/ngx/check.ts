// The phase check every ngx API call makes: one mask test, OpenResty's error text when it fails.

import { API_RULES, checkApi, type ApiName } from '../phases/api-rules.js';
import type { RequestState } from '../request/state.js';

/** Throws OpenResty's "API disabled ..." unless `api` may run in `s`'s phase (the allowed case is decided inline). */
export function allow(s: RequestState, api: ApiName): RequestState {
  if ((API_RULES[api] & s.phaseBit) === 0) checkApi(api, s.phase);
  return s;
}
