-- The operator's figures of one queue, read on one slot at one moment.
-- KEYS[1] line  KEYS[2] passes  KEYS[3] live  KEYS[4] admitted  KEYS[5] bucket
-- ARGV[1] now (ms)
-- Returns { waiting, active, admitted in all, admitted in the last minute, expired unused }.
local now = tonumber(ARGV[1])
return {
  redis.call('ZCARD', KEYS[1]),
  redis.call('ZCOUNT', KEYS[3], '(' .. now, '+inf'),
  redis.call('HLEN', KEYS[2]),
  redis.call('ZCOUNT', KEYS[4], now - 60000, '+inf'),
  tonumber(redis.call('HGET', KEYS[5], 'expired') or '0'),
}
