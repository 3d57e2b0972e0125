// ngx.location.capture / capture_multi for TypeScript handlers (phases/subrequest.ts runs them).

import { capture } from '../phases/subrequest.js';
import type { RequestState } from '../request/state.js';
import { allow } from './check.js';
import type { NgxLocation } from './types.js';

export function locationApi(s: RequestState): NgxLocation {
  return {
    capture: (uri, options = {}) => capture(allow(s, 'ngx.location.capture'), uri, options),
    captureMulti: (requests) => {
      allow(s, 'ngx.location.capture');
      return Promise.all(requests.map(([uri, options]) => capture(s, uri, options ?? {})));
    },
  };
}
