import { describe, expect, it } from 'vitest';
import { parseAddress, Peer, PeerSet } from './peers.js';

const peer = (host: string, weight = 1, extra: Partial<ConstructorParameters<typeof Peer>[0]> = {}) =>
  new Peer({ host, port: 80, weight, maxFails: 1, failTimeout: 10, backup: false, ...extra });

describe('smooth weighted round-robin', () => {
  it('gives nginx\'s sequence for weights 5, 1, 1', () => {
    const set = new PeerSet([peer('a', 5), peer('b'), peer('c')], 'round-robin');
    const seq = Array.from({ length: 7 }, () => set.pick(0, new Set())?.host);
    expect(seq).toEqual(['a', 'a', 'b', 'a', 'c', 'a', 'a']);
  });

  it('skips peers already tried in this request and uses backups only when no primary is left', () => {
    const a = peer('a');
    const b = peer('b', 1, { backup: true });
    const set = new PeerSet([a, b], 'round-robin');
    expect(set.pick(0, new Set())).toBe(a);
    expect(set.pick(0, new Set([a]))).toBe(b);
    expect(set.pick(0, new Set([a, b]))).toBeUndefined();
  });
});

describe('passive health', () => {
  it('maxFails failures within failTimeout take a peer out for failTimeout', () => {
    const p = peer('a', 1, { maxFails: 2, failTimeout: 10 });
    p.fail(1_000);
    expect(p.usable(1_001)).toBe(true);
    p.fail(2_000);
    expect(p.usable(2_001)).toBe(false);
    expect(p.usable(12_001)).toBe(true);
  });

  it('failures further apart than failTimeout do not add up; maxFails 0 never takes a peer out', () => {
    const p = peer('a', 1, { maxFails: 2, failTimeout: 1 });
    p.fail(0);
    p.fail(5_000);
    expect(p.usable(5_001)).toBe(true);
    const never = peer('b', 1, { maxFails: 0 });
    never.fail(0);
    never.fail(0);
    expect(never.usable(1)).toBe(true);
  });
});

describe('hash and least connections', () => {
  it('the same key maps to the same peer; a down peer moves only its keys', () => {
    const peers = ['a', 'b', 'c'].map((h) => peer(h));
    const set = new PeerSet(peers, 'hash');
    const keys = Array.from({ length: 50 }, (_, i) => `user${i}`);
    const before = keys.map((k) => set.pick(0, new Set(), k)?.host);
    expect(keys.map((k) => set.pick(0, new Set(), k)?.host)).toEqual(before);
    (peers[1] as Peer).healthy = false;
    const after = keys.map((k) => set.pick(0, new Set(), k)?.host);
    keys.forEach((_, i) => {
      if (before[i] !== 'b') expect(after[i]).toBe(before[i]);
      else expect(after[i]).not.toBe('b');
    });
  });

  it('least-conn picks the peer with fewest active requests per weight', () => {
    const a = peer('a');
    const b = peer('b');
    a.active = 3;
    b.active = 1;
    expect(new PeerSet([a, b], 'least-conn').pick(0, new Set())).toBe(b);
  });
});

describe('parseAddress', () => {
  it('reads host:port, [v6]:port, and a bare host (port 80); refuses bad ports', () => {
    expect(parseAddress('127.0.0.1:8081')).toEqual({ host: '127.0.0.1', port: 8081 });
    expect(parseAddress('[::1]:9000')).toEqual({ host: '::1', port: 9000 });
    expect(parseAddress('backend')).toEqual({ host: 'backend', port: 80 });
    expect(parseAddress('x:0')).toBeUndefined();
    expect(parseAddress('x:70000')).toBeUndefined();
  });

  it('refuses a host no URL can hold', () => {
    expect(parseAddress('127.0.0.256:80')).toBeUndefined();
    expect(parseAddress('a b:80')).toBeUndefined();
  });
});
