// The least-recently-used table behind proxyPass hosts from variables and balancer-named peers.
import { describe, expect, it } from 'vitest';
import { lruGet, lruSet } from './upstreams.js';

describe('lruGet / lruSet', () => {
  it('evicts the least recently used entry past the limit; a lookup counts as use', () => {
    const map = new Map<string, number>();
    const evicted: string[] = [];
    const evict = (_: number, key: string) => evicted.push(key);
    lruSet(map, 'a', 1, evict, 3);
    lruSet(map, 'b', 2, evict, 3);
    lruSet(map, 'c', 3, evict, 3);
    expect(lruGet(map, 'a')).toBe(1);
    lruSet(map, 'd', 4, evict, 3);
    expect(evicted).toEqual(['b']);
    expect([...map.keys()]).toEqual(['c', 'a', 'd']);
    expect(lruGet(map, 'b')).toBeUndefined();
    lruSet(map, 'e', 5, evict, 3);
    expect(evicted).toEqual(['b', 'c']);
  });
});
