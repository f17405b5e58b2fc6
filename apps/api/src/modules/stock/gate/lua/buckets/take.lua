-- Take up to the units a line still needs from one bucket of a product's stock (the rest from
-- the next bucket, or the whole line is given back: all or nothing across buckets).
-- KEYS: the bucket's stock, the bucket's holds. ARGV: reservation id, user id, units wanted.
-- Returns {units taken, counter before}; {-1, 0} when the bucket has no counter (sync first),
-- {-2, counter} when the reservation holds units here already. Never below zero. Uses
-- lib/now.lua.
local value = redis.call('GET', KEYS[1])
if not value then return {-1, 0} end
local counter = tonumber(value)
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then return {-2, counter} end
local take = math.min(counter, tonumber(ARGV[3]))
if take > 0 then
  redis.call('DECRBY', KEYS[1], take)
  redis.call('HSET', KEYS[2], ARGV[1], take .. ':' .. ARGV[2] .. ':' .. now_ms())
end
return {take, counter}
