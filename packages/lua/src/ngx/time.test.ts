// ngx time functions against values observed on nginx 1.22 + lua-nginx-module 0.10.23 (lua-resty-core time.lua).
import type { Clock } from '@phasekit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LuaVm } from '../vm/index.js';
import type { NgxInstall } from './install.js';
import { createNgxVm } from './ngx-vm.test-support.js';
import { installTime } from './time.js';

class FakeClock implements Clock {
  ms = 0;
  now(): number {
    return this.ms;
  }
  schedule(): () => void {
    return () => {};
  }
}

describe('ngx time', () => {
  let vm: LuaVm;
  let ctx: NgxInstall;
  const clock = new FakeClock();
  const run = (src: string) => vm.run(`local ngx = ... ${src}`, 'test', ctx.ngx);

  beforeAll(async () => {
    ({ vm, ctx } = await createNgxVm([installTime], clock));
  });
  afterAll(() => vm.close());

  it('ngx.time is whole seconds of the clock, an integer', () => {
    clock.ms = 1795298226646;
    expect(run('return ngx.time(), math.type(ngx.time())')).toEqual([1795298226, 'integer']);
  });

  it('ngx.now has millisecond precision and prints like LuaJIT', () => {
    clock.ms = 1795298226646.9;
    expect(run('return ngx.now(), tostring(ngx.now())')).toEqual([1795298226.646, '1795298226.646']);
    clock.ms = 1795298226000;
    expect(run('return tostring(ngx.now())')).toEqual(['1795298226']);
  });

  it('ngx.update_time returns nothing', () => {
    expect(run('return select("#", ngx.update_time())')).toEqual([0]);
  });

  it('ngx.utctime is "yyyy-mm-dd hh:mm:ss" in UTC', () => {
    clock.ms = 1795298226646;
    expect(run('return ngx.utctime()')).toEqual(['2026-11-21 21:57:06']);
  });

  it('ngx.localtime and ngx.today use the local time zone', () => {
    clock.ms = 1795298226646;
    const d = new Date(clock.ms);
    const p = (n: number) => String(n).padStart(2, '0');
    const day = `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
    expect(run('return ngx.localtime(), ngx.today()')).toEqual([`${day} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`, day]);
  });

  it('ngx.http_time formats RFC 1123 dates, truncating fractions and clamping negatives to the epoch', () => {
    expect(run('return ngx.http_time(1290079655), ngx.http_time(0), ngx.http_time(-1), ngx.http_time(1.7), ngx.http_time(1.2e10)')).toEqual([
      'Thu, 18 Nov 2010 11:27:35 GMT',
      'Thu, 01 Jan 1970 00:00:00 GMT',
      'Thu, 01 Jan 1970 00:00:00 GMT',
      'Thu, 01 Jan 1970 00:00:01 GMT',
      'Fri, 07 Apr 2350 21:20:00 GMT',
    ]);
  });

  it('ngx.cookie_time uses 2-digit years up to 2037 and 4 digits after', () => {
    expect(run('return ngx.cookie_time(1290079655), ngx.cookie_time(2^31 + 100)')).toEqual([
      'Thu, 18-Nov-10 11:27:35 GMT',
      'Tue, 19-Jan-2038 03:15:48 GMT',
    ]);
  });

  it('http_time and cookie_time raise "number argument only" for non-numbers (even numeric strings)', () => {
    expect(run('return pcall(ngx.http_time, "123")')).toEqual([false, 'number argument only']);
    expect(run('return pcall(ngx.http_time)')).toEqual([false, 'number argument only']);
    expect(run('return pcall(ngx.cookie_time, "x")')).toEqual([false, 'number argument only']);
    expect(run('local ok, e = pcall(function() local r = ngx.http_time("x") return r end) return e')).toEqual(['test:1: number argument only']);
  });

  it('ngx.parse_http_time reads the RFC 822, RFC 850 and asctime forms', () => {
    const cases: [string, number | null][] = [
      ['Thu, 18 Nov 2010 11:27:35 GMT', 1290079655],
      ['Thu, 18-Nov-10 11:27:35 GMT', 1290079655],
      ['Thursday, 18-Nov-10 11:27:35 GMT', 1290079655],
      ['Thu Nov 18 11:27:35 2010', 1290079655],
      ['Thu Nov  8 11:27:35 2010', 1289215655],
      ['Thu, 18 Nov 2010 11:27:35', 1290079655],
      ['Thu, 18 Nov 2010 11:27:35 GMT  ', 1290079655],
      ['Thu, 18 Nov 2010 11:27:35 UTC', 1290079655],
      ['Thu, 18 Nov 1969 11:27:35 GMT', -3760345],
      ['Thu, 18 Nov 2040 11:27:35 GMT', 2236850855],
      ['Mon, 01 Jan 0001 00:00:00 GMT', -62135596800],
      ['Thu, 18-Nov-70 11:27:35 GMT', 27775655],
      ['Thu, 18-Nov-69 11:27:35 GMT', 3151999655],
      ['garbage', null],
      ['', null],
      ['18 Nov 2010 11:27:35 GMT', null],
      ['Thu, 31 Feb 2010 11:27:35 GMT', null],
      [' Thu, 18 Nov 2010 11:27:35 GMT', null],
      ['Thu, 18 Nov 2010 25:27:35 GMT', null],
      ['thu, 18 nov 2010 11:27:35 gmt', null],
    ];
    for (const [s, want] of cases) expect([s, run(`return ngx.parse_http_time(${JSON.stringify(s)})`)[0]]).toEqual([s, want]);
  });

  it('ngx.parse_http_time checks leap years', () => {
    expect(run('return ngx.parse_http_time("Mon, 29 Feb 2016 00:00:00 GMT"), ngx.parse_http_time("Thu, 29 Feb 2018 00:00:00 GMT"), ngx.parse_http_time("Thu, 29 Feb 1900 00:00:00 GMT")')).toEqual([
      1456704000,
      null,
      null,
    ]);
  });

  it('ngx.parse_http_time raises "string argument only" for non-strings', () => {
    expect(run('return pcall(ngx.parse_http_time, 123)')).toEqual([false, 'string argument only']);
    expect(run('return pcall(ngx.parse_http_time)')).toEqual([false, 'string argument only']);
  });
});
