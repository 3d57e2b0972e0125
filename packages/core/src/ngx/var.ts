// ngx.var: nginx variables as a proxy over the request (request/vars.ts holds the variables themselves).

import type { RequestState } from '../request/state.js';
import { readVar, writeVar } from '../request/vars.js';
import { formatNumber } from '../text/number.js';
import { allow } from './check.js';
import type { Ngx } from './types.js';

const VAR_TRAPS: ProxyHandler<RequestState> = {
  get(s, name) {
    if (typeof name !== 'string') return undefined;
    allow(s, 'ngx.var');
    return readVar(s, name);
  },
  set(s, name, value) {
    if (typeof name !== 'string') return false;
    allow(s, 'ngx.var=');
    writeVar(s, name, typeof value === 'number' ? formatNumber(value) : value);
    return true;
  },
  has: () => false,
  ownKeys: () => [],
  getOwnPropertyDescriptor: () => undefined,
};

export function varProxy(s: RequestState): Ngx['var'] {
  return new Proxy(s, VAR_TRAPS) as unknown as Ngx['var'];
}
