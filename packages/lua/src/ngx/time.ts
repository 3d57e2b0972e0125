// ngx.time/now/today/update_time/localtime/utctime/http_time/cookie_time/parse_http_time, as lua-resty-core's time.lua.

import type { NgxInstall } from './install.js';

// Everything that needs no clock is plain Lua (no JS crossing): the date arithmetic is nginx's
// ngx_gmtime (negative times clamp to the epoch) and ngx_parse_http_time, ported byte for byte.
const TIME_LUA = String.raw`
local ngx, now_ms, stamp = ...
local type, error, floor, tointeger, fmt, byte, sub = type, error, math.floor, math.tointeger, string.format, string.byte, string.sub

local WEEK = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" }
local MONTHS = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" }
local MDAY = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 }

-- C's (long) cast of a double, then ngx_gmtime's "valid for positive time_t only" clamp.
local function to_time(sec)
  if sec ~= sec then return 0 end
  if sec >= 2^62 then return 1 << 62 end
  local t = sec >= 0 and floor(sec) or -floor(-sec)
  if t < 0 then return 0 end
  return tointeger(t)
end

local function gmtime(t)
  local days, secs = t // 86400, t % 86400
  local wday = (4 + days) % 7 -- 1970-01-01 was a Thursday
  local z = days + 719468
  local era = z // 146097
  local doe = z - era * 146097
  local yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
  local doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
  local mp = (5 * doy + 2) // 153
  local mday = doy - (153 * mp + 2) // 5 + 1
  local mon = mp < 10 and mp + 3 or mp - 9
  local year = yoe + era * 400 + (mon <= 2 and 1 or 0)
  return year, mon, mday, secs // 3600, secs % 3600 // 60, secs % 60, wday
end

function ngx.time()
  return now_ms() // 1000
end

function ngx.now()
  local ms = now_ms()
  -- nginx returns sec + msec / 1000.0; keep whole seconds an integer so it prints as LuaJIT does
  if ms % 1000 == 0 then return ms // 1000 end
  return ms // 1000 + (ms % 1000) / 1000
end

function ngx.update_time() end

function ngx.today()
  return sub(stamp(false), 1, 10)
end

function ngx.localtime()
  return stamp(false)
end

function ngx.utctime()
  return stamp(true)
end

function ngx.http_time(sec)
  if type(sec) ~= "number" then error("number argument only", 2) end
  local y, mo, d, h, mi, s, wd = gmtime(to_time(sec))
  -- resty.core copies a fixed 29-byte buffer
  return sub(fmt("%s, %02d %s %4d %02d:%02d:%02d GMT", WEEK[wd + 1], d, MONTHS[mo], y, h, mi, s), 1, 29)
end

function ngx.cookie_time(sec)
  if type(sec) ~= "number" then error("number argument only", 2) end
  local y, mo, d, h, mi, s, wd = gmtime(to_time(sec))
  -- Netscape 3.x reads 2-digit years only up to "37": later years are written in full
  if y > 2037 then
    return fmt("%s, %02d-%s-%d %02d:%02d:%02d GMT", WEEK[wd + 1], d, MONTHS[mo], y, h, mi, s)
  end
  return fmt("%s, %02d-%s-%02d %02d:%02d:%02d GMT", WEEK[wd + 1], d, MONTHS[mo], y % 100, h, mi, s)
end

local C0, C9, SP, COMMA, DASH, COLON = 48, 57, 32, 44, 45, 58
local RFC822, RFC850, ISOC = 1, 2, 3

function ngx.parse_http_time(str)
  if type(str) ~= "string" then error("string argument only", 2) end
  local len = #str
  local function at(i) return byte(str, i) or 0 end
  local function digit(i) local c = at(i) return c >= C0 and c <= C9 end
  local function d2(i) return (at(i) - C0) * 10 + at(i + 1) - C0 end
  local fmt_ = 0
  local p = 1
  while p <= len do
    local c = at(p)
    if c == COMMA then break end
    if c == SP then fmt_ = ISOC break end
    p = p + 1
  end
  p = p + 1
  while p <= len and at(p) == SP do p = p + 1 end
  if len + 1 - p < 18 then return nil end
  local day, year
  if fmt_ ~= ISOC then
    if not (digit(p) and digit(p + 1)) then return nil end
    day = d2(p)
    p = p + 2
    if at(p) == SP then
      if len + 1 - p < 18 then return nil end
      fmt_ = RFC822
    elseif at(p) == DASH then
      fmt_ = RFC850
    else
      return nil
    end
    p = p + 1
  end
  local c, month = at(p), nil
  if c == 74 then -- J
    month = at(p + 1) == 97 and 0 or (at(p + 2) == 110 and 5 or 6)
  elseif c == 70 then month = 1 -- F
  elseif c == 77 then month = at(p + 2) == 114 and 2 or 4 -- M
  elseif c == 65 then month = at(p + 1) == 112 and 3 or 7 -- A
  elseif c == 83 then month = 8 -- S
  elseif c == 79 then month = 9 -- O
  elseif c == 78 then month = 10 -- N
  elseif c == 68 then month = 11 -- D
  else return nil end
  p = p + 3
  if (fmt_ == RFC822 and at(p) ~= SP) or (fmt_ == RFC850 and at(p) ~= DASH) then return nil end
  p = p + 1
  if fmt_ == RFC822 then
    if not (digit(p) and digit(p + 1) and digit(p + 2) and digit(p + 3)) then return nil end
    year = d2(p) * 100 + d2(p + 2)
    p = p + 4
  elseif fmt_ == RFC850 then
    if not (digit(p) and digit(p + 1)) then return nil end
    year = d2(p)
    year = year + (year < 70 and 2000 or 1900)
    p = p + 2
  end
  if fmt_ == ISOC then
    if at(p) == SP then p = p + 1 end
    if not digit(p) then return nil end
    day = at(p) - C0
    p = p + 1
    if at(p) ~= SP then
      if not digit(p) then return nil end
      day = day * 10 + at(p) - C0
      p = p + 1
    end
    if len + 1 - p < 14 then return nil end
  end
  if at(p) ~= SP then return nil end
  p = p + 1
  if not (digit(p) and digit(p + 1)) then return nil end
  local hour = d2(p)
  p = p + 2
  if at(p) ~= COLON then return nil end
  p = p + 1
  if not (digit(p) and digit(p + 1)) then return nil end
  local min = d2(p)
  p = p + 2
  if at(p) ~= COLON then return nil end
  p = p + 1
  if not (digit(p) and digit(p + 1)) then return nil end
  local sec = d2(p)
  if fmt_ == ISOC then
    p = p + 2
    if at(p) ~= SP then return nil end
    p = p + 1
    if not (digit(p) and digit(p + 1) and digit(p + 2) and digit(p + 3)) then return nil end
    year = d2(p) * 100 + d2(p + 2)
  end
  if hour > 23 or min > 59 or sec > 59 then return nil end
  if day == 29 and month == 1 then
    if year & 3 ~= 0 or (year % 100 == 0 and year % 400 ~= 0) then return nil end
  elseif day > MDAY[month + 1] then
    return nil
  end
  -- Gauss' formula, with the year shifted to start on March 1
  month = month - 1
  if month <= 0 then
    month = month + 12
    year = year - 1
  end
  return (365 * year + year // 4 - year // 100 + year // 400 + 367 * month // 12 - 30 + day - 1 - 719527 + 31 + 28) * 86400
    + hour * 3600 + min * 60 + sec
end
`;

const pad = (n: number) => (n < 10 ? '0' : '') + n;

/** "yyyy-mm-dd hh:mm:ss" of `ms`, in UTC or in the process's local time zone (as nginx's cached times). */
function formatStamp(ms: number, utc: boolean): string {
  const d = new Date(ms);
  return utc
    ? `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`
    : `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** Installs the time functions; every reading comes from `ctx.clock`, so a fake clock drives them in tests. */
export function installTime(ctx: NgxInstall): void {
  const { vm, clock } = ctx;
  const nowMs = vm.createFunction((call) => {
    call.pushNumber(Math.floor(clock.now()));
    return 1;
  }, 'now');
  const stamp = vm.createFunction((call) => {
    call.pushString(formatStamp(Math.floor(clock.now()), call.boolean(1)));
    return 1;
  }, 'localtime');
  vm.run(TIME_LUA, 'ngx.time', ctx.ngx, nowMs, stamp);
  nowMs.release();
  stamp.release();
}
