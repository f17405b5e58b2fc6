-- The admission step of one queue, run by every API process's ticker: a token bucket shared in
-- Redis makes N processes admit at the operator's rate together, not N times it. Passes go to
-- the lowest scores (the draw, then arrival order), never beyond the cap on active passes nor
-- beyond what the units left can serve.
-- KEYS[1] line  KEYS[2] passes  KEYS[3] live  KEYS[4] admitted  KEYS[5] bucket
-- ARGV[1] now (ms)  ARGV[2] passes per minute  ARGV[3] max active (0: no cap)
-- ARGV[4] the inventory bound: live passes at most this  ARGV[5] pass lifetime (ms)
-- ARGV[6] 1 when admission may run (the sale is on and not paused)
-- Returns { admitted now, active after, waiting after, passes expired now }.
local now = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local max_active = tonumber(ARGV[3])
local bound = tonumber(ARGV[4])
local ttl = tonumber(ARGV[5])

-- Passes that ran out unused stop counting; spent ones left the set at their order.
local expired = redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
if expired > 0 then redis.call('HINCRBY', KEYS[5], 'expired', expired) end
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now - 60000)
local active = redis.call('ZCARD', KEYS[3])

-- At most one second's worth in the bucket: a pause or a stall never saves up a burst.
local capacity = math.max(1, rate / 60)
local tokens = tonumber(redis.call('HGET', KEYS[5], 'tokens') or capacity)
local last = tonumber(redis.call('HGET', KEYS[5], 'last') or now)
if now > last then
  tokens = math.min(capacity, tokens + (now - last) * rate / 60000)
  last = now
end

local admitted = 0
if ARGV[6] == '1' then
  local room = math.floor(tokens)
  if max_active > 0 then room = math.min(room, max_active - active) end
  room = math.min(room, bound - active)
  if room > 0 then
    local popped = redis.call('ZPOPMIN', KEYS[1], room)
    for i = 1, #popped, 2 do
      local user = popped[i]
      redis.call('HSET', KEYS[2], user, now + ttl)
      redis.call('ZADD', KEYS[3], now + ttl, user)
      redis.call('ZADD', KEYS[4], now, user)
      admitted = admitted + 1
    end
    tokens = tokens - admitted
  end
end
redis.call('HSET', KEYS[5], 'tokens', tostring(tokens), 'last', tostring(last))
return { admitted, active + admitted, redis.call('ZCARD', KEYS[1]), expired }
