// A SharedDict's region: handed to another SharedDict (as worker threads do), both see one dict.

import { describe, expect, it } from 'vitest';
import { codeOf } from '../code-of.test-support.js';
import { SharedDict } from './shared-dict.js';

describe('SharedDict regions', () => {
  it('attach() opens the same dict: writes through one are read through the other', () => {
    const a = new SharedDict('d', '64k');
    const b = SharedDict.attach(a.region);
    expect(b.name).toBe('d');
    expect(b.capacity()).toBe(65536);
    a.set('k', 'v', 0, 7);
    b.incr('n', 5, 0);
    b.rpush('list', 'x');
    expect(b.getWithFlags('k')).toEqual(['v', 7]);
    expect(a.get('n')).toBe(5);
    expect(a.lpop('list')).toEqual(['x', undefined]);
    expect(a.freeSpace()).toBe(b.freeSpace());
    expect(b.getKeys(0)).toEqual(['k', 'n']);
  });

  it('refuses a buffer that is not a region', () => {
    const region = { name: 'd', buffer: new SharedArrayBuffer(4096) };
    expect(codeOf(() => SharedDict.attach(region))).toBe('PHASEKIT_ERR_BAD_ARGUMENT');
  });

  it('releaseLockOf frees a lock only when that thread holds it', () => {
    const a = new SharedDict('d', '64k');
    const { buffer } = a.region;
    const lock = new Int32Array(buffer, 0, 1);
    expect(a.releaseLockOf(5)).toBe(false);
    Atomics.store(lock, 0, (5 + 1) << 1); // as if worker thread 5 died inside a call
    expect(a.releaseLockOf(4)).toBe(false);
    expect(a.releaseLockOf(5)).toBe(true);
    expect(a.set('k', 1)).toEqual([true, undefined, false]);
  });
});
