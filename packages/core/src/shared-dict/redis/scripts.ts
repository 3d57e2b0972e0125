// The Redis side of a shared dict: one Lua script per method that must read and write in one
// atomic step. An entry is a hash at `<prefix>h:<key>` with fields t (type, as the shm store's
// T_* numbers), v (value), f (flags) and e (expiry, ms since the epoch, 0 never, -1 flushed); a
// list's items are a Redis list at `<prefix>l:<key>`, each item's first byte its type (n, s, b).
// Expiry is decided against the caller's clock (ARGV now); Redis itself drops a key `grace` ms
// after it expires, so get_stale can still see it until then.

/** Shared by every script: expiry bookkeeping on both keys of an entry. */
const PRELUDE = `
local function live(e, now) return e == 0 or e > now end
local function set_expiry(h, l, e, grace)
  if e > 0 then
    redis.call('PEXPIREAT', h, e + grace)
    redis.call('PEXPIREAT', l, e + grace)
  else
    redis.call('PERSIST', h)
    redis.call('PERSIST', l)
  end
end
`;

/** KEYS h l; ARGV now op(set|add|replace) type value flags expires grace → ok | exists | not found */
export const STORE = `${PRELUDE}
local h, l = KEYS[1], KEYS[2]
local now, op, t = tonumber(ARGV[1]), ARGV[2], ARGV[3]
local cur = redis.call('HMGET', h, 't', 'e')
local is_live = cur[1] and live(tonumber(cur[2]), now)
if op == 'replace' and not is_live then return 'not found' end
if op == 'add' and is_live then return 'exists' end
redis.call('DEL', l)
if t == '0' then
  redis.call('DEL', h)
  return 'ok'
end
local e = tonumber(ARGV[6])
redis.call('HSET', h, 't', t, 'v', ARGV[4], 'f', ARGV[5], 'e', e)
set_expiry(h, l, e, tonumber(ARGV[7]))
return 'ok'
`;

/** KEYS h l; ARGV now step hasInit init initExpires grace → {status, value} */
export const INCR = `${PRELUDE}
local h, l = KEYS[1], KEYS[2]
local now, step = tonumber(ARGV[1]), tonumber(ARGV[2])
local cur = redis.call('HMGET', h, 't', 'v', 'e')
if cur[1] and live(tonumber(cur[3]), now) then
  if cur[1] ~= '3' then return {'not a number'} end
  local s = string.format('%.17g', tonumber(cur[2]) + step)
  redis.call('HSET', h, 'v', s)
  return {'ok', s}
end
if ARGV[3] ~= '1' then return {'not found'} end
local s = string.format('%.17g', step + tonumber(ARGV[4]))
local e = tonumber(ARGV[5])
redis.call('DEL', l)
redis.call('HSET', h, 't', '3', 'v', s, 'f', '0', 'e', e)
set_expiry(h, l, e, tonumber(ARGV[6]))
return {'init', s}
`;

/** KEYS h l; ARGV now left(1|0) item → length | 'not a list' */
export const PUSH = `${PRELUDE}
local h, l = KEYS[1], KEYS[2]
local now = tonumber(ARGV[1])
local cur = redis.call('HMGET', h, 't', 'e')
if cur[1] then
  if not live(tonumber(cur[2]), now) then
    -- Expired: a list is emptied and reused without its expiry, anything else is dropped.
    redis.call('DEL', l)
    if cur[1] == '5' then
      redis.call('HSET', h, 'e', 0)
      redis.call('PERSIST', h)
    else
      redis.call('DEL', h)
      cur[1] = false
    end
  elseif cur[1] ~= '5' then
    return 'not a list'
  end
end
if not cur[1] then redis.call('HSET', h, 't', '5', 'f', '0', 'e', 0) end
if ARGV[2] == '1' then return redis.call('LPUSH', l, ARGV[3]) end
return redis.call('RPUSH', l, ARGV[3])
`;

/** KEYS h l; ARGV now left(1|0) → {} (missing) | {'not a list'} | {'ok', item} */
export const POP = `${PRELUDE}
local h, l = KEYS[1], KEYS[2]
local cur = redis.call('HMGET', h, 't', 'e')
if not cur[1] or not live(tonumber(cur[2]), tonumber(ARGV[1])) then return {} end
if cur[1] ~= '5' then return {'not a list'} end
local item
if ARGV[2] == '1' then item = redis.call('LPOP', l) else item = redis.call('RPOP', l) end
if redis.call('LLEN', l) == 0 then redis.call('DEL', h, l) end
if not item then return {} end
return {'ok', item}
`;

/** KEYS h l; ARGV now → length | 'not a list' */
export const LLEN = `${PRELUDE}
local cur = redis.call('HMGET', KEYS[1], 't', 'e')
if not cur[1] or not live(tonumber(cur[2]), tonumber(ARGV[1])) then return 0 end
if cur[1] ~= '5' then return 'not a list' end
return redis.call('LLEN', KEYS[2])
`;

/** KEYS h l; ARGV now ms grace → ok | not found */
export const EXPIRE = `${PRELUDE}
if redis.call('EXISTS', KEYS[1]) == 0 then return 'not found' end
local ms = tonumber(ARGV[2])
local e = 0
if ms > 0 then e = tonumber(ARGV[1]) + ms end
redis.call('HSET', KEYS[1], 'e', e)
set_expiry(KEYS[1], KEYS[2], e, tonumber(ARGV[3]))
return 'ok'
`;

/** KEYS h1 l1 h2 l2 ...; ARGV mode(flush|expired|live) now grace max → count, or the live keys' indexes */
export const SWEEP = `${PRELUDE}
local mode, now, grace, max = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local n, found = 0, {}
for i = 1, #KEYS, 2 do
  local e = redis.call('HGET', KEYS[i], 'e')
  if e then
    e = tonumber(e)
    if mode == 'flush' then
      redis.call('HSET', KEYS[i], 'e', -1)
      redis.call('PEXPIRE', KEYS[i], grace)
      redis.call('PEXPIRE', KEYS[i + 1], grace)
      n = n + 1
    elseif mode == 'expired' then
      if not live(e, now) and (max == 0 or n < max) then
        redis.call('DEL', KEYS[i], KEYS[i + 1])
        n = n + 1
      end
    elseif live(e, now) then
      found[#found + 1] = (i + 1) / 2
    end
  end
end
if mode == 'live' then return found end
return n
`;
