// A closed VM's wasm memory is collectable: what lets RSS come back when a grown VM is replaced.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { loadLuaModule } from './wasm.js';
import { LuaVm } from './index.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

describe('releasing a VM', () => {
  it('leaves no global getter holding a wasm instance, so its memory is collected once unreachable', async () => {
    const before = new Set(Object.getOwnPropertyNames(globalThis));
    let m: { HEAPU8: Uint8Array } | undefined = await loadLuaModule();
    // Before: emscripten's globalThis.writeI53ToI64 (and other) getters kept the first instance alive.
    const added = Object.getOwnPropertyNames(globalThis).filter((n) => !before.has(n) && Object.getOwnPropertyDescriptor(globalThis, n)?.get !== undefined);
    expect(added).toEqual([]);
    const memory = new WeakRef(m.HEAPU8.buffer);
    m = undefined;
    await LuaVm.create(); // a later instance must not pin the earlier one either
    for (let i = 0; i < 10 && memory.deref() !== undefined; i++) {
      await new Promise((r) => setTimeout(r, 10));
      gc();
    }
    expect(memory.deref()).toBeUndefined();
  });
});
