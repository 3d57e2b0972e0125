// Expected results follow OpenResty; the ones marked "nginx:" were checked against nginx 1.22 +
// lua-nginx-module 0.10.23 (Debian nginx-extras) running the same calls in Lua.

import { describe, it, expect } from 'vitest';
import type { Clock } from '../clock.js';
import { SharedDict, SHARED_DICT_OVERHEAD } from './shared-dict.js';
import { codeOf } from '../code-of.test-support.js';

/** A clock that moves only when told to. */
function fakeClock(start = 1_700_000_000_000): Clock & { t: number; advance(ms: number): void } {
  return {
    t: start,
    now() {
      return this.t;
    },
    schedule() {
      return () => {};
    },
    advance(ms: number) {
      this.t += ms;
    },
  };
}

const BAD = 'PHASEKIT_ERR_BAD_ARGUMENT';
const { entry: ENTRY, listHead: LIST_HEAD, listNode: LIST_NODE } = SHARED_DICT_OVERHEAD;

/** Bytes one scalar entry costs: overhead + key bytes + value bytes. */
const cost = (key: string, valueBytes: number) => ENTRY + Buffer.byteLength(key) + valueBytes;

function dict(capacity: number | string = '1m') {
  const clock = fakeClock();
  return { d: new SharedDict('dogs', capacity, { clock }), clock };
}

describe('new SharedDict', () => {
  it('takes a name and a capacity in bytes or nginx size syntax', () => {
    expect(new SharedDict('dogs', '1m').name).toBe('dogs');
    expect(new SharedDict('dogs', '1m').capacity()).toBe(1048576);
    expect(new SharedDict('dogs', '512k').capacity()).toBe(524288);
    expect(new SharedDict('dogs', 4096).capacity()).toBe(4096);
    expect(new SharedDict('dogs', 4096).freeSpace()).toBe(4096);
  });

  it('rejects bad names and sizes with BadArgumentError', () => {
    expect(codeOf(() => new SharedDict('', '1m'))).toBe(BAD);
    expect(codeOf(() => new SharedDict(undefined as unknown as string, '1m'))).toBe(BAD);
    expect(codeOf(() => new SharedDict('d', '1x'))).toBe(BAD);
    expect(codeOf(() => new SharedDict('d', 0))).toBe(BAD);
    expect(codeOf(() => new SharedDict('d', -5))).toBe(BAD);
  });

  it('uses the system clock by default', () => {
    const d = new SharedDict('d', '1m');
    d.set('k', 1, 100);
    const [ttl] = d.ttl('k');
    expect(ttl).toBeGreaterThan(99);
    expect(ttl).toBeLessThanOrEqual(100);
  });
});

describe('get / getWithFlags / getStale', () => {
  it('get returns the bare value, undefined when absent', () => {
    const { d } = dict();
    d.set('a', 1);
    expect(d.get('a')).toBe(1);
    expect(d.get('zz')).toBeUndefined();
  });

  it('getWithFlags returns [value, flags], flags undefined when 0 (nginx: get returns one value)', () => {
    const { d } = dict();
    d.set('a', 'x', 0, 7);
    d.set('b', 'y');
    expect(d.getWithFlags('a')).toEqual(['x', 7]);
    expect(d.getWithFlags('b')).toEqual(['y', undefined]);
    expect(d.getWithFlags('zz')).toEqual([undefined, undefined]);
  });

  it('getStale returns [value, flags, stale]', () => {
    const { d } = dict();
    d.set('a', 'x', 0, 7);
    d.set('b', 1);
    expect(d.getStale('a')).toEqual(['x', 7, false]);
    expect(d.getStale('b')).toEqual([1, undefined, false]);
    expect(d.getStale('zz')).toEqual([undefined, undefined, undefined]);
  });

  it('round-trips every value type', () => {
    const { d } = dict();
    d.set('s', 'héllo');
    d.set('n', -1.25);
    d.set('i', 10534);
    d.set('t', true);
    d.set('f', false);
    d.set('e', '');
    d.set('nan', NaN);
    expect(d.get('s')).toBe('héllo');
    expect(d.get('n')).toBe(-1.25);
    expect(d.get('i')).toBe(10534);
    expect(Number.isInteger(d.get('i'))).toBe(true);
    expect(d.get('t')).toBe(true);
    expect(d.get('f')).toBe(false);
    expect(d.get('e')).toBe('');
    expect(d.get('nan')).toBeNaN();
  });

  it('keeps its own copy of bytes and hands out copies', () => {
    const { d } = dict();
    const buf = Buffer.from([1, 2, 3]);
    expect(d.set('b', buf)).toEqual([true, undefined, false]);
    buf[0] = 9;
    const got = d.get('b') as Uint8Array;
    expect([...got]).toEqual([1, 2, 3]);
    got[1] = 9;
    expect([...(d.get('b') as Uint8Array)]).toEqual([1, 2, 3]);
    expect([...(d.getWithFlags('b')[0] as Uint8Array)]).toEqual([1, 2, 3]);
    expect(d.freeSpace()).toBe(d.capacity() - cost('b', 3));
  });
});

describe('keys', () => {
  const long = 'x'.repeat(65536);
  const cases: [string, (d: SharedDict, key: unknown) => unknown, unknown[], unknown[], unknown[]][] = [
    // method, call, nil key, empty key, key too long
    ['getWithFlags', (d, k) => d.getWithFlags(k as string), [undefined, 'nil key'], [undefined, 'empty key'], [undefined, 'key too long']],
    ['getStale', (d, k) => d.getStale(k as string), [undefined, 'nil key', undefined], [undefined, 'empty key', undefined], [undefined, 'key too long', undefined]],
    ['set', (d, k) => d.set(k as string, 1), [undefined, 'nil key', undefined], [undefined, 'empty key', undefined], [undefined, 'key too long', undefined]],
    ['safeSet', (d, k) => d.safeSet(k as string, 1), [undefined, 'nil key', undefined], [undefined, 'empty key', undefined], [undefined, 'key too long', undefined]],
    ['add', (d, k) => d.add(k as string, 1), [undefined, 'nil key', undefined], [undefined, 'empty key', undefined], [undefined, 'key too long', undefined]],
    ['safeAdd', (d, k) => d.safeAdd(k as string, 1), [undefined, 'nil key', undefined], [undefined, 'empty key', undefined], [undefined, 'key too long', undefined]],
    ['replace', (d, k) => d.replace(k as string, 1), [undefined, 'nil key', undefined], [undefined, 'empty key', undefined], [undefined, 'key too long', undefined]],
    ['delete', (d, k) => d.delete(k as string), [undefined, 'nil key', undefined], [undefined, 'empty key', undefined], [undefined, 'key too long', undefined]],
    ['incr', (d, k) => d.incr(k as string, 1, 0), [undefined, 'nil key', undefined], [undefined, 'empty key', undefined], [undefined, 'key too long', undefined]],
    ['lpush', (d, k) => d.lpush(k as string, 1), [undefined, 'nil key'], [undefined, 'empty key'], [undefined, 'key too long']],
    ['rpush', (d, k) => d.rpush(k as string, 1), [undefined, 'nil key'], [undefined, 'empty key'], [undefined, 'key too long']],
    ['lpop', (d, k) => d.lpop(k as string), [undefined, 'nil key'], [undefined, 'empty key'], [undefined, 'key too long']],
    ['rpop', (d, k) => d.rpop(k as string), [undefined, 'nil key'], [undefined, 'empty key'], [undefined, 'key too long']],
    ['llen', (d, k) => d.llen(k as string), [undefined, 'nil key'], [undefined, 'empty key'], [undefined, 'key too long']],
    ['ttl', (d, k) => d.ttl(k as string), [undefined, 'nil key'], [undefined, 'empty key'], [undefined, 'key too long']],
    ['expire', (d, k) => d.expire(k as string, 1), [undefined, 'nil key'], [undefined, 'empty key'], [undefined, 'key too long']],
  ];

  it.each(cases)('%s returns nil, "nil key" / "empty key" / "key too long" (nginx)', (_name, call, nilKey, emptyKey, longKey) => {
    const { d } = dict();
    expect(call(d, undefined)).toEqual(nilKey);
    expect(call(d, null)).toEqual(nilKey);
    expect(call(d, '')).toEqual(emptyKey);
    expect(call(d, long)).toEqual(longKey);
  });

  it('get returns undefined for bad keys', () => {
    const { d } = dict();
    expect(d.get(undefined as unknown as string)).toBeUndefined();
    expect(d.get('')).toBeUndefined();
    expect(d.get(long)).toBeUndefined();
  });

  it('measures key length in UTF-8 bytes (nginx: 32768 × "é" is too long)', () => {
    const { d } = dict();
    expect(d.set('é'.repeat(32768), 1)).toEqual([undefined, 'key too long', undefined]);
    expect(d.set('k'.repeat(65535), 1)).toEqual([true, undefined, false]);
    expect(d.get('k'.repeat(65535))).toBe(1);
  });

  it('turns number keys into strings, as tostring() does (nginx: set(1, v) then get("1"))', () => {
    const { d } = dict();
    d.set(1, 'one');
    expect(d.get('1')).toBe('one');
    expect(d.get(1)).toBe('one');
    d.set('2.5', 'x');
    expect(d.get(2.5)).toBe('x');
  });

  it('throws BadArgumentError for keys Lua could not pass (objects, functions, symbols)', () => {
    const { d } = dict();
    expect(codeOf(() => d.get({} as unknown as string))).toBe(BAD);
    expect(codeOf(() => d.set([] as unknown as string, 1))).toBe(BAD);
    expect(codeOf(() => d.incr((() => 1) as unknown as string, 1))).toBe(BAD);
    expect(codeOf(() => d.lpush(Symbol('k') as unknown as string, 1))).toBe(BAD);
  });
});

describe('set', () => {
  it('stores and overwrites, returning [true, undefined, false]', () => {
    const { d } = dict();
    expect(d.set('a', 1)).toEqual([true, undefined, false]);
    expect(d.set('a', 'longer string now')).toEqual([true, undefined, false]);
    expect(d.get('a')).toBe('longer string now');
  });

  it('deletes when the value is undefined or null', () => {
    const { d } = dict();
    d.set('a', 1);
    expect(d.set('a', undefined)).toEqual([true, undefined, false]);
    expect(d.get('a')).toBeUndefined();
    d.set('a', 1);
    expect(d.set('a', null)).toEqual([true, undefined, false]);
    expect(d.get('a')).toBeUndefined();
    expect(d.set('missing', undefined)).toEqual([true, undefined, false]);
    expect(d.freeSpace()).toBe(d.capacity());
  });

  it('returns nil, "bad value type" for objects and functions (nginx)', () => {
    const { d } = dict();
    expect(d.set('a', {} as unknown as string)).toEqual([undefined, 'bad value type', undefined]);
    expect(d.set('a', (() => 1) as unknown as string)).toEqual([undefined, 'bad value type', undefined]);
    expect(d.set('a', [1] as unknown as string)).toEqual([undefined, 'bad value type', undefined]);
    expect(d.set('a', 1n as unknown as string)).toEqual([undefined, 'bad value type', undefined]);
  });

  it('sets flags, and replaces them on the next set', () => {
    const { d } = dict();
    d.set('a', 1, 0, 42);
    expect(d.getWithFlags('a')).toEqual([1, 42]);
    d.set('a', 2);
    expect(d.getWithFlags('a')).toEqual([2, undefined]);
    d.set('a', 3, 0, 0xffffffff);
    expect(d.getWithFlags('a')).toEqual([3, 0xffffffff]);
  });

  it('throws BadArgumentError for a negative, NaN or non-number exptime (nginx raises for negative)', () => {
    const { d } = dict();
    expect(codeOf(() => d.set('a', 1, -1))).toBe(BAD);
    expect(codeOf(() => d.set('a', 1, NaN))).toBe(BAD);
    expect(codeOf(() => d.set('a', 1, Infinity))).toBe(BAD);
    expect(codeOf(() => d.set('a', 1, '5' as unknown as number))).toBe(BAD);
    expect(codeOf(() => d.add('a', 1, -0.5))).toBe(BAD);
    expect(d.get('a')).toBeUndefined();
  });

  it('throws BadArgumentError for flags that are not unsigned 32-bit integers', () => {
    const { d } = dict();
    expect(codeOf(() => d.set('a', 1, 0, -3))).toBe(BAD);
    expect(codeOf(() => d.set('a', 1, 0, 2.7))).toBe(BAD);
    expect(codeOf(() => d.set('a', 1, 0, 2 ** 32))).toBe(BAD);
    expect(codeOf(() => d.set('a', 1, 0, 'x' as unknown as number))).toBe(BAD);
  });

  it('replaces a list (nginx: set over a list key succeeds)', () => {
    const { d } = dict();
    d.rpush('l', 'x');
    expect(d.set('l', 5)).toEqual([true, undefined, false]);
    expect(d.get('l')).toBe(5);
    expect(d.freeSpace()).toBe(d.capacity() - cost('l', 8));
  });
});

describe('add / safeAdd', () => {
  it('adds a missing key and refuses an existing one with "exists"', () => {
    const { d } = dict();
    expect(d.add('a', 1)).toEqual([true, undefined, false]);
    expect(d.add('a', 2)).toEqual([false, 'exists', false]);
    expect(d.get('a')).toBe(1);
    expect(d.safeAdd('a', 2)).toEqual([false, 'exists', false]);
    expect(d.safeAdd('b', 2)).toEqual([true, undefined, false]);
  });

  it('adds over an expired key (nginx)', () => {
    const { d, clock } = dict();
    d.set('a', 5, 0.01);
    clock.advance(50);
    expect(d.add('a', 6)).toEqual([true, undefined, false]);
    expect(d.get('a')).toBe(6);
  });

  it('treats a list key as existing (nginx: add on a list gives "exists")', () => {
    const { d } = dict();
    d.lpush('l', 1);
    expect(d.add('l', 1)).toEqual([false, 'exists', false]);
  });

  it('refuses nil values: false, "attempt to add or replace nil values" (nginx)', () => {
    const { d } = dict();
    const msg = 'attempt to add or replace nil values';
    expect(d.add('n', undefined as unknown as string)).toEqual([false, msg, false]);
    expect(d.safeAdd('n', null as unknown as string)).toEqual([false, msg, false]);
    expect(d.replace('n', undefined as unknown as string)).toEqual([false, msg, false]);
  });
});

describe('replace', () => {
  it('replaces an existing key only', () => {
    const { d } = dict();
    expect(d.replace('a', 1)).toEqual([false, 'not found', false]);
    d.set('a', 1, 0, 3);
    expect(d.replace('a', 'two')).toEqual([true, undefined, false]);
    expect(d.getWithFlags('a')).toEqual(['two', undefined]);
  });

  it('does not replace an expired key (nginx: "not found")', () => {
    const { d, clock } = dict();
    d.set('a', 1, 1);
    clock.advance(1000);
    expect(d.replace('a', 2)).toEqual([false, 'not found', false]);
    expect(d.getStale('a')).toEqual([1, undefined, true]);
  });

  it('replaces a list with a scalar (nginx)', () => {
    const { d } = dict();
    d.rpush('l', 'x');
    expect(d.replace('l', 1)).toEqual([true, undefined, false]);
    expect(d.get('l')).toBe(1);
  });
});

describe('delete', () => {
  it('removes the key and returns [true, undefined, false], also for a missing key (nginx)', () => {
    const { d } = dict();
    d.set('a', 'x');
    expect(d.delete('a')).toEqual([true, undefined, false]);
    expect(d.get('a')).toBeUndefined();
    expect(d.delete('a')).toEqual([true, undefined, false]);
    expect(d.freeSpace()).toBe(d.capacity());
  });

  it('removes lists', () => {
    const { d } = dict();
    d.rpush('l', 'x');
    d.rpush('l', 'y');
    d.delete('l');
    expect(d.llen('l')).toEqual([0, undefined]);
    expect(d.freeSpace()).toBe(d.capacity());
  });
});

describe('incr', () => {
  it('returns "not found" for a missing key without init (nginx: nil, "not found")', () => {
    const { d } = dict();
    expect(d.incr('n', 1)).toEqual([undefined, 'not found', undefined]);
  });

  it('adds to a number; forcible is nil without init and false with it (nginx)', () => {
    const { d } = dict();
    expect(d.incr('n', 1, 10)).toEqual([11, undefined, false]);
    expect(d.incr('n', 1)).toEqual([12, undefined, undefined]);
    expect(d.incr('n', 1, 0)).toEqual([13, undefined, false]);
    expect(d.incr('n', 0.5)).toEqual([13.5, undefined, undefined]);
    expect(d.incr('n', -13.5)).toEqual([0, undefined, undefined]);
  });

  it('keeps integers integers', () => {
    const { d } = dict();
    d.set('n', 10000);
    const [v] = d.incr('n', 534);
    expect(v).toBe(10534);
    expect(Number.isInteger(v)).toBe(true);
    expect(Number.isInteger(d.get('n'))).toBe(true);
    for (let i = 0; i < 1000; i++) d.incr('c', 1, 0);
    expect(d.get('c')).toBe(1000);
    expect(String(d.get('c'))).toBe('1000');
    expect(d.incr('f', 0.1, 0.2)[0]).toBeCloseTo(0.3);
  });

  it('returns "not a number" for strings, booleans, bytes and lists, with or without init (nginx)', () => {
    const { d } = dict();
    d.set('s', '5');
    d.set('b', true);
    d.set('y', new Uint8Array(8));
    d.rpush('l', 1);
    for (const k of ['s', 'b', 'y', 'l']) {
      expect(d.incr(k, 1)).toEqual([undefined, 'not a number', undefined]);
      expect(d.incr(k, 1, 0)).toEqual([undefined, 'not a number', undefined]);
    }
  });

  it('converts numeric strings as tonumber() does (nginx: incr(k, "2") works)', () => {
    const { d } = dict();
    d.set('n', 1);
    expect(d.incr('n', '2' as unknown as number)).toEqual([3, undefined, undefined]);
    expect(d.incr('m', 1, '5' as unknown as number)).toEqual([6, undefined, false]);
    expect(d.incr('h', 1, ' 0x10 ' as unknown as number)).toEqual([17, undefined, false]);
  });

  it('throws BadArgumentError for a bad value, init or init_ttl (nginx raises)', () => {
    const { d } = dict();
    d.set('n', 1);
    expect(codeOf(() => d.incr('n', undefined as unknown as number))).toBe(BAD);
    expect(codeOf(() => d.incr('n', 'x' as unknown as number))).toBe(BAD);
    expect(codeOf(() => d.incr('n', 1, 'x' as unknown as number))).toBe(BAD);
    expect(codeOf(() => d.incr('n', 1, {} as unknown as number))).toBe(BAD);
    expect(codeOf(() => d.incr('n', 1, undefined, 10))).toBe(BAD); // init_ttl without init
    expect(codeOf(() => d.incr('n', 1, 0, -1))).toBe(BAD);
    expect(codeOf(() => d.incr('n', 1, 0, 'x' as unknown as number))).toBe(BAD);
    expect(d.get('n')).toBe(1);
  });

  it('treats init false as no init, as Lua does', () => {
    const { d } = dict();
    expect(d.incr('n', 1, false as unknown as number)).toEqual([undefined, 'not found', undefined]);
  });

  it('applies init_ttl only when init is used', () => {
    const { d, clock } = dict();
    expect(d.incr('n', 1, 0, 2)).toEqual([1, undefined, false]);
    expect(d.ttl('n')).toEqual([2, undefined]);
    clock.advance(500);
    expect(d.incr('n', 1, 0, 100)).toEqual([2, undefined, false]);
    expect(d.ttl('n')).toEqual([1.5, undefined]);
    clock.advance(1500);
    expect(d.get('n')).toBeUndefined();
    expect(d.incr('n', 1)).toEqual([undefined, 'not found', undefined]);
  });

  it('restarts an expired key from init, with init_ttl (nginx: 101 and ttl 0.5)', () => {
    const { d, clock } = dict();
    d.set('e', 5, 0.01, 9);
    clock.advance(50);
    expect(d.incr('e', 1, 100, 0.5)).toEqual([101, undefined, false]);
    expect(d.ttl('e')).toEqual([0.5, undefined]);
    expect(d.getWithFlags('e')).toEqual([101, undefined]);
  });

  it('keeps the expiry of an existing key', () => {
    const { d, clock } = dict();
    d.set('n', 1, 10);
    clock.advance(1000);
    d.incr('n', 1);
    expect(d.ttl('n')).toEqual([9, undefined]);
  });

  it('evicts for room when init creates the key, and says so', () => {
    const cap = cost('a', 8) * 2;
    const { d } = dict(cap);
    d.set('a', 1);
    d.set('b', 1);
    expect(d.incr('c', 1, 0)).toEqual([1, undefined, true]);
    expect(d.get('a')).toBeUndefined();
  });
});

describe('lists', () => {
  it('lpush/rpush return the new length, lpop/rpop take from either end (nginx)', () => {
    const { d } = dict();
    expect(d.lpush('L', 'a')).toEqual([1, undefined]);
    expect(d.rpush('L', 2)).toEqual([2, undefined]);
    expect(d.lpush('L', 'z')).toEqual([3, undefined]);
    expect(d.llen('L')).toEqual([3, undefined]);
    expect(d.lpop('L')).toEqual(['z', undefined]);
    expect(d.rpop('L')).toEqual([2, undefined]);
    expect(d.rpop('L')).toEqual(['a', undefined]);
    expect(d.llen('L')).toEqual([0, undefined]);
    expect(d.rpop('L')).toEqual([undefined, undefined]);
  });

  it('removes the key when the last item is popped', () => {
    const { d } = dict();
    d.rpush('L', 'x');
    d.lpop('L');
    expect(d.getKeys(0)).toEqual([]);
    expect(d.freeSpace()).toBe(d.capacity());
    expect(d.add('L', 1)).toEqual([true, undefined, false]);
  });

  it('works as a FIFO queue over many items', () => {
    const { d } = dict();
    for (let i = 0; i < 100; i++) d.rpush('q', i);
    d.lpush('q', -1);
    const out: unknown[] = [];
    for (;;) {
      const [v] = d.lpop('q');
      if (v === undefined) break;
      out.push(v);
    }
    expect(out).toEqual([-1, ...Array.from({ length: 100 }, (_, i) => i)]);
  });

  it('missing keys: llen 0, pops nil (nginx)', () => {
    const { d } = dict();
    expect(d.llen('none')).toEqual([0, undefined]);
    expect(d.lpop('none')).toEqual([undefined, undefined]);
    expect(d.rpop('none')).toEqual([undefined, undefined]);
  });

  it('list ops on a scalar give "value not a list" (nginx)', () => {
    const { d } = dict();
    d.set('b', 'x');
    expect(d.lpush('b', 1)).toEqual([undefined, 'value not a list']);
    expect(d.rpush('b', 1)).toEqual([undefined, 'value not a list']);
    expect(d.lpop('b')).toEqual([undefined, 'value not a list']);
    expect(d.rpop('b')).toEqual([undefined, 'value not a list']);
    expect(d.llen('b')).toEqual([undefined, 'value not a list']);
    expect(d.get('b')).toBe('x');
  });

  it('scalar reads of a list give "value is a list" (nginx)', () => {
    const { d } = dict();
    d.rpush('L', 1);
    expect(d.get('L')).toBeUndefined();
    expect(d.getWithFlags('L')).toEqual([undefined, 'value is a list']);
    expect(d.getStale('L')).toEqual([undefined, 'value is a list', undefined]);
  });

  it('pushes only strings, numbers and bytes: nil, "bad value type" otherwise (nginx)', () => {
    const { d } = dict();
    expect(d.lpush('L', true as unknown as string)).toEqual([undefined, 'bad value type']);
    expect(d.lpush('L', undefined as unknown as string)).toEqual([undefined, 'bad value type']);
    expect(d.rpush('L', {} as unknown as string)).toEqual([undefined, 'bad value type']);
    const [n] = d.rpush('L', new Uint8Array([7]));
    expect(n).toBe(1);
    expect([...(d.lpop('L')[0] as Uint8Array)]).toEqual([7]);
  });

  it('an expired list reads as missing and is emptied and reused by the next push (nginx)', () => {
    const { d, clock } = dict();
    d.rpush('EL', 1);
    d.rpush('EL', 2);
    d.expire('EL', 0.01);
    clock.advance(50);
    expect(d.llen('EL')).toEqual([0, undefined]);
    expect(d.lpop('EL')).toEqual([undefined, undefined]);
    expect(d.getStale('EL')).toEqual([undefined, 'value is a list', undefined]);
    expect(d.rpush('EL', 3)).toEqual([1, undefined]);
    expect(d.ttl('EL')).toEqual([0, undefined]);
    expect(d.lpop('EL')).toEqual([3, undefined]);
  });

  it('a push over an expired scalar starts a new list', () => {
    const { d, clock } = dict();
    d.set('k', 'v', 1);
    clock.advance(1000);
    expect(d.rpush('k', 'x')).toEqual([1, undefined]);
    expect(d.llen('k')).toEqual([1, undefined]);
  });

  it('counts a list as entry + key + head + one node per item', () => {
    const { d } = dict();
    d.rpush('L', 'abc');
    d.rpush('L', 1);
    const expected = ENTRY + 1 + LIST_HEAD + (LIST_NODE + 3) + (LIST_NODE + 8);
    expect(d.freeSpace()).toBe(d.capacity() - expected);
    d.lpop('L');
    expect(d.freeSpace()).toBe(d.capacity() - (ENTRY + 1 + LIST_HEAD + LIST_NODE + 8));
  });

  it('pushes never evict: false, "no memory" (nginx)', () => {
    const cap = cost('a', 8) + ENTRY + 1 + LIST_HEAD + LIST_NODE + 1;
    const { d } = dict(cap);
    d.set('a', 1);
    expect(d.rpush('L', 'x')).toEqual([1, undefined]);
    expect(d.rpush('L', 'y')).toEqual([false, 'no memory']);
    expect(d.lpush('M', 'y')).toEqual([false, 'no memory']);
    expect(d.get('a')).toBe(1);
    expect(d.llen('L')).toEqual([1, undefined]);
    expect(d.llen('M')).toEqual([0, undefined]);
  });

  it('pushes do reclaim expired entries', () => {
    const cap = cost('a', 8) + ENTRY + 1 + LIST_HEAD + LIST_NODE + 1;
    const { d, clock } = dict(cap);
    d.set('a', 1, 1);
    d.set('b', 1);
    clock.advance(1000);
    expect(d.rpush('L', 'x')).toEqual([1, undefined]);
    expect(d.getStale('a')).toEqual([undefined, undefined, undefined]);
    expect(d.get('b')).toBe(1);
  });

  it('drops an emptied expired list it could not refill (nginx)', () => {
    const cap = ENTRY + 1 + LIST_HEAD + LIST_NODE + 1;
    const { d, clock } = dict(cap);
    d.rpush('L', 'x');
    d.expire('L', 1);
    clock.advance(1000);
    expect(d.rpush('L', 'too long')).toEqual([false, 'no memory']);
    expect(d.getStale('L')).toEqual([undefined, undefined, undefined]);
    expect(d.freeSpace()).toBe(cap);
  });
});

describe('ttl / expire', () => {
  it('ttl: "not found" for missing keys, 0 for no expiry, seconds left otherwise (nginx)', () => {
    const { d, clock } = dict();
    expect(d.ttl('zz')).toEqual([undefined, 'not found']);
    d.set('b', 1);
    expect(d.ttl('b')).toEqual([0, undefined]);
    d.set('t', 1, 0.5);
    expect(d.ttl('t')).toEqual([0.5, undefined]);
    clock.advance(200);
    expect(d.ttl('t')).toEqual([0.3, undefined]);
  });

  it('ttl of an expired entry not yet freed is negative (nginx: -0.051)', () => {
    const { d, clock } = dict();
    d.set('e', 'v', 0.05);
    clock.advance(101);
    expect(d.ttl('e')).toEqual([-0.051, undefined]);
  });

  it('expire sets a new time to live; 0 (or less) removes it (nginx)', () => {
    const { d, clock } = dict();
    expect(d.expire('zz', 1)).toEqual([undefined, 'not found']);
    d.set('t', 1, 0.5);
    expect(d.expire('t', 0.2)).toEqual([true, undefined]);
    expect(d.ttl('t')).toEqual([0.2, undefined]);
    expect(d.expire('t', 0)).toEqual([true, undefined]);
    expect(d.ttl('t')).toEqual([0, undefined]);
    d.expire('t', 1);
    expect(d.expire('t', -1)).toEqual([true, undefined]);
    expect(d.ttl('t')).toEqual([0, undefined]);
    clock.advance(10_000);
    expect(d.get('t')).toBe(1);
  });

  it('expire brings back an expired entry not yet freed (nginx)', () => {
    const { d, clock } = dict();
    d.set('e', 'v', 0.05, 3);
    clock.advance(100);
    expect(d.get('e')).toBeUndefined();
    expect(d.expire('e', 10)).toEqual([true, undefined]);
    expect(d.getWithFlags('e')).toEqual(['v', 3]);
  });

  it('expire works on lists', () => {
    const { d, clock } = dict();
    d.rpush('L', 1);
    d.expire('L', 1);
    expect(d.ttl('L')).toEqual([1, undefined]);
    clock.advance(1000);
    expect(d.llen('L')).toEqual([0, undefined]);
  });

  it('expire throws BadArgumentError without an exptime (nginx raises)', () => {
    const { d } = dict();
    d.set('a', 1);
    expect(codeOf(() => d.expire('a', undefined as unknown as number))).toBe(BAD);
    expect(codeOf(() => d.expire('a', NaN))).toBe(BAD);
    expect(codeOf(() => d.expire('a', '5' as unknown as number))).toBe(BAD);
  });
});

describe('expiry', () => {
  it('hides an entry from get once its time is up; getStale still sees it', () => {
    const { d, clock } = dict();
    d.set('e', 'v', 1, 3);
    clock.advance(999);
    expect(d.get('e')).toBe('v');
    expect(d.getStale('e')).toEqual(['v', 3, false]);
    clock.advance(1);
    expect(d.get('e')).toBeUndefined();
    expect(d.getWithFlags('e')).toEqual([undefined, undefined]);
    expect(d.getStale('e')).toEqual(['v', 3, true]);
  });

  it('has millisecond resolution; fractions of a millisecond are truncated (nginx: 0.0004 s never expires)', () => {
    const { d, clock } = dict();
    d.set('ms', 1, 0.0015);
    d.set('tiny', 1, 0.0004);
    expect(d.ttl('ms')).toEqual([0.001, undefined]);
    expect(d.ttl('tiny')).toEqual([0, undefined]);
    clock.advance(1);
    expect(d.get('ms')).toBeUndefined();
    clock.advance(1e9);
    expect(d.get('tiny')).toBe(1);
  });

  it('set without exptime clears an earlier expiry', () => {
    const { d, clock } = dict();
    d.set('a', 1, 1);
    d.set('a', 2);
    clock.advance(5000);
    expect(d.get('a')).toBe(2);
  });

  it('keeps expired entries until room is needed or they are flushed', () => {
    const { d, clock } = dict();
    d.set('a', 'x', 1);
    clock.advance(2000);
    expect(d.freeSpace()).toBe(d.capacity() - cost('a', 1));
    expect(d.flushExpired()).toBe(1);
    expect(d.freeSpace()).toBe(d.capacity());
    expect(d.getStale('a')).toEqual([undefined, undefined, undefined]);
  });
});

describe('capacity, eviction and forcible', () => {
  it('accounts entry overhead + UTF-8 key bytes + value bytes', () => {
    const { d } = dict();
    d.set('k', 'héllo'); // 6 bytes
    d.set('n', 1); // 8
    d.set('b', true); // 1
    d.set('ключ', ''); // 8-byte key
    expect(d.freeSpace()).toBe(d.capacity() - (cost('k', 6) + cost('n', 8) + cost('b', 1) + cost('ключ', 0)));
    d.set('k', 'h'); // shrink in place
    expect(d.freeSpace()).toBe(d.capacity() - (cost('k', 1) + cost('n', 8) + cost('b', 1) + cost('ключ', 0)));
  });

  it('evicts the least recently used entries, get counting as use, and returns forcible = true', () => {
    const cap = cost('k1', 8) * 3;
    const { d } = dict(cap);
    d.set('k1', 1);
    d.set('k2', 2);
    d.set('k3', 3);
    expect(d.freeSpace()).toBe(0);
    d.get('k1'); // k2 is now the least recently used
    expect(d.set('k4', 4)).toEqual([true, undefined, true]);
    expect(d.get('k2')).toBeUndefined();
    expect(d.getKeys(0)).toEqual(['k3', 'k1', 'k4']);
    d.set('k3', 30); // writing counts as use too
    expect(d.set('k5', 5)).toEqual([true, undefined, true]);
    expect(d.getKeys(0)).toEqual(['k4', 'k3', 'k5']);
  });

  it('evicts as many entries as the new one needs', () => {
    const cap = cost('k1', 8) * 4;
    const { d } = dict(cap);
    for (let i = 1; i <= 4; i++) d.set(`k${i}`, i);
    const big = 'x'.repeat(8 + cost('k1', 8)); // needs two entries' worth
    expect(d.set('k9', big)).toEqual([true, undefined, true]);
    expect(d.getKeys(0)).toEqual(['k3', 'k4', 'k9']);
    expect(d.freeSpace()).toBe(cap - 2 * cost('k1', 8) - cost('k9', big.length));
  });

  it('drops expired entries before live ones, and then forcible stays false', () => {
    const cap = cost('k1', 8) * 3;
    const { d, clock } = dict(cap);
    d.set('k1', 1);
    d.set('k2', 2);
    d.set('k3', 3, 1); // most recently used, but about to expire
    clock.advance(1000);
    expect(d.set('k4', 4)).toEqual([true, undefined, false]);
    expect(d.getKeys(0)).toEqual(['k1', 'k2', 'k4']);
    expect(d.getStale('k3')).toEqual([undefined, undefined, undefined]);
  });

  it('safeSet and safeAdd return "no memory" instead of evicting (nginx)', () => {
    const cap = cost('k1', 8) * 2;
    const { d } = dict(cap);
    d.set('k1', 1);
    d.set('k2', 2);
    expect(d.safeSet('k3', 3)).toEqual([false, 'no memory', false]);
    expect(d.safeAdd('k3', 3)).toEqual([false, 'no memory', false]);
    expect(d.getKeys(0)).toEqual(['k1', 'k2']);
    expect(d.safeSet('k1', 10)).toEqual([true, undefined, false]); // same size: fits in place
  });

  it('safe stores still reclaim expired entries', () => {
    const cap = cost('k1', 8) * 2;
    const { d, clock } = dict(cap);
    d.set('k1', 1, 1);
    d.set('k2', 2);
    clock.advance(1000);
    expect(d.safeSet('k3', 3)).toEqual([true, undefined, false]);
    expect(d.getKeys(0)).toEqual(['k2', 'k3']);
  });

  it('a safeSet that cannot grow a value leaves the key deleted, as nginx frees the old node first', () => {
    const cap = cost('k1', 8) * 2;
    const { d } = dict(cap);
    d.set('k1', 1);
    d.set('k2', 2);
    expect(d.safeSet('k1', 'a string longer than eight bytes')).toEqual([false, 'no memory', false]);
    expect(d.get('k1')).toBeUndefined();
    expect(d.get('k2')).toBe(2);
  });

  it('grows a value in place when it fits, and evicts others (not itself) when set needs room', () => {
    const cap = cost('k1', 8) * 3;
    const { d } = dict(cap);
    d.set('k1', 1);
    d.set('k2', 2);
    d.set('k3', 3);
    expect(d.set('k1', 'x'.repeat(16))).toEqual([true, undefined, true]);
    expect(d.get('k1')).toBe('x'.repeat(16));
    expect(d.get('k2')).toBeUndefined();
    expect(d.get('k3')).toBe(3);
  });

  it('an entry larger than the whole dict: false, "no memory", false, and nothing evicted', () => {
    const { d } = dict(1024);
    d.set('a', 1);
    expect(d.set('huge', 'x'.repeat(2000))).toEqual([false, 'no memory', false]);
    expect(d.safeSet('huge', 'x'.repeat(2000))).toEqual([false, 'no memory', false]);
    expect(d.add('huge', 'x'.repeat(2000))).toEqual([false, 'no memory', false]);
    expect(d.get('a')).toBe(1);
  });

  it('freeSpace returns to capacity once everything is deleted', () => {
    const { d } = dict(4096);
    for (let i = 0; i < 100; i++) d.set(`key${i}`, `value${i}`);
    for (let i = 0; i < 100; i++) d.delete(`key${i}`);
    d.rpush('l', 'x');
    d.rpop('l');
    expect(d.freeSpace()).toBe(4096);
  });

  it('reclaims every expired entry, whatever the order of expiry, before refusing a safe store', () => {
    const n = 200;
    const cap = cost('k000', 8) * n;
    const { d, clock } = dict(cap);
    // Expiry times in a scrambled order; entries expire at t + 1..200 ms, half of them before t + 100.
    for (let i = 0; i < n; i++) d.set(`k${String(i).padStart(3, '0')}`, i, ((i * 37) % n + 1) / 1000);
    clock.advance(100);
    let stored = 0;
    while (d.safeSet(`n${String(stored).padStart(3, '0')}`, 0)[0] === true) stored++;
    expect(stored).toBe(100);
    expect(d.getKeys(0)).toHaveLength(n);
    clock.advance(50);
    expect(d.flushExpired()).toBe(50);
  });

  it('never goes over capacity under churn', () => {
    const { d, clock } = dict(2000);
    for (let i = 0; i < 5000; i++) {
      const k = `k${i % 97}`;
      switch (i % 5) {
        case 0:
          d.set(k, 'v'.repeat(i % 40), i % 3);
          break;
        case 1:
          d.incr(`c${i % 13}`, 1, 0, i % 2);
          break;
        case 2:
          d.rpush(`l${i % 7}`, i);
          break;
        case 3:
          d.lpop(`l${i % 11}`);
          break;
        default:
          d.safeAdd(k, i);
      }
      clock.advance(i % 300);
      expect(d.freeSpace()).toBeGreaterThanOrEqual(0);
    }
    d.flushAll();
    d.flushExpired();
    expect(d.freeSpace()).toBe(2000);
  });
});

describe('flushAll', () => {
  it('marks everything expired; getStale still sees all but the three least recently used (nginx)', () => {
    const { d } = dict();
    for (let i = 1; i <= 6; i++) d.set(`f${i}`, i);
    d.get('f1');
    d.flushAll();
    for (let i = 1; i <= 6; i++) expect(d.get(`f${i}`)).toBeUndefined();
    expect(d.getStale('f1')).toEqual([1, undefined, true]);
    expect(d.getStale('f2')).toEqual([undefined, undefined, undefined]);
    expect(d.getStale('f3')).toEqual([undefined, undefined, undefined]);
    expect(d.getStale('f4')).toEqual([undefined, undefined, undefined]);
    expect(d.getStale('f5')).toEqual([5, undefined, true]);
    expect(d.getStale('f6')).toEqual([6, undefined, true]);
    expect(d.getKeys(0)).toEqual([]);
    expect(d.flushExpired()).toBe(3);
    expect(d.freeSpace()).toBe(d.capacity());
  });

  it('lets flushed keys be added again, and works with a clock at 0', () => {
    const clock = fakeClock(0);
    const d = new SharedDict('d', '1m', { clock });
    d.set('a', 1);
    d.flushAll();
    expect(d.get('a')).toBeUndefined();
    expect(d.add('a', 2)).toEqual([true, undefined, false]);
    expect(d.get('a')).toBe(2);
  });
});

describe('flushExpired', () => {
  it('frees expired entries, least recently used first, at most max (nginx: 2 of 6, then 4)', () => {
    const { d, clock } = dict();
    for (let i = 1; i <= 6; i++) d.set(`g${i}`, i, 0.001);
    d.set('live', 1);
    clock.advance(10);
    expect(d.flushExpired(2)).toBe(2);
    expect(d.getStale('g1')).toEqual([undefined, undefined, undefined]);
    expect(d.getStale('g2')).toEqual([undefined, undefined, undefined]);
    expect(d.getStale('g3')).toEqual([3, undefined, true]);
    expect(d.flushExpired(0)).toBe(4);
    expect(d.flushExpired()).toBe(0);
    expect(d.get('live')).toBe(1);
  });

  it('treats a negative max as no limit and truncates fractions', () => {
    const { d, clock } = dict();
    for (let i = 1; i <= 4; i++) d.set(`g${i}`, i, 0.001);
    clock.advance(10);
    expect(d.flushExpired(1.7)).toBe(1);
    expect(d.flushExpired(-1)).toBe(3);
  });

  it('throws BadArgumentError for a non-number max', () => {
    const { d } = dict();
    expect(codeOf(() => d.flushExpired('x' as unknown as number))).toBe(BAD);
  });
});

describe('getKeys', () => {
  it('returns at most 1024 keys by default, all with 0, at most max otherwise', () => {
    const { d } = dict('4m');
    for (let i = 0; i < 1500; i++) d.set(`k${i}`, i);
    expect(d.getKeys()).toHaveLength(1024);
    expect(d.getKeys(0)).toHaveLength(1500);
    expect(d.getKeys(10)).toHaveLength(10);
    expect(d.getKeys(-1)).toHaveLength(1500);
    expect(d.getKeys(1.7)).toHaveLength(1);
    expect(d.getKeys(2)).toEqual(['k0', 'k1']);
  });

  it('lists unexpired keys only, lists included, least recently used first (nginx)', () => {
    const { d, clock } = dict();
    d.set('a', 1);
    d.set('b', 2, 1);
    d.rpush('l', 1);
    d.set('c', 3);
    d.get('a');
    expect(d.getKeys()).toEqual(['b', 'l', 'c', 'a']);
    clock.advance(1000);
    expect(d.getKeys()).toEqual(['l', 'c', 'a']);
    expect(new SharedDict('empty', '1m').getKeys()).toEqual([]);
  });

  it('throws BadArgumentError for a non-number max', () => {
    const { d } = dict();
    expect(codeOf(() => d.getKeys(null as unknown as number))).toBe(BAD);
  });
});
