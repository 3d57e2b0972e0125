import { describe, expect, it } from 'vitest';
import { LuaVm } from './index.js';

describe('nullUserdata', () => {
  it('is a light userdata equal only to itself, and survives a round trip', async () => {
    const vm = await LuaVm.create();
    const nul = vm.nullUserdata();
    const [t, same, other, str] = vm.run('local n = ... return type(n), n == n, n == nil, tostring(n)', 'null', nul);
    expect([t, same, other]).toEqual(['userdata', true, false]);
    expect(str).toMatch(/^userdata: /);
    vm.close();
  });
});
