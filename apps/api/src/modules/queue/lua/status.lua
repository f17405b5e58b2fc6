-- One buyer's place, in one round trip. A buyer the queue does not know but whose verified
-- ticket was sent (ARGV[3] not empty) is put back at the ticket's place first: that is how a
-- queue lost with a Redis node is rebuilt, poll by poll, with nobody losing their place.
-- KEYS[1] tickets  KEYS[2] line  KEYS[3] passes  KEYS[4] admitted
-- ARGV[1] user id  ARGV[2] now (ms)  ARGV[3] ticket score or ''  ARGV[4] ticket joined at
-- Returns { 0 } for a buyer not in the queue, else
-- { 1, "score,joinedAt", rank or -1, pass expiry or -1, waiting, admitted in the last minute,
--   1 when restored from the ticket }.
local user = ARGV[1]
local ticket = redis.call('HGET', KEYS[1], user)
local restored = 0
if not ticket and ARGV[3] ~= '' then
  ticket = ARGV[3] .. ',' .. ARGV[4]
  redis.call('HSET', KEYS[1], user, ticket)
  if not redis.call('HGET', KEYS[3], user) then
    redis.call('ZADD', KEYS[2], ARGV[3], user)
  end
  restored = 1
end
if not ticket then return { 0 } end
local rank = redis.call('ZRANK', KEYS[2], user)
local pass = redis.call('HGET', KEYS[3], user)
local now = tonumber(ARGV[2])
return {
  1,
  ticket,
  rank or -1,
  pass or -1,
  redis.call('ZCARD', KEYS[2]),
  redis.call('ZCOUNT', KEYS[4], now - 60000, '+inf'),
  restored,
}
