-- A product split over several stock buckets keeps one cap table, on its base slot. A line's
-- cap is taken there first, then its units bucket by bucket (buckets/take.lua); with one
-- bucket, lib/reserve.lua checks the cap with the stock in the same step instead.
-- KEYS: cap, cap holds (both on the base slot).
-- ARGV: reservation id, user id, quantity, limit.
-- Returns {1} when taken, {0, 'limit', units the user already has}, or {0, 'duplicate', 0}
-- when the reservation holds this cap already. Uses lib/now.lua.
local rid, user, quantity, limit = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
if redis.call('HEXISTS', KEYS[2], rid) == 1 then return {0, 'duplicate', 0} end
local had = tonumber(redis.call('HGET', KEYS[1], user) or '0')
if had + quantity > limit then return {0, 'limit', had} end
redis.call('HINCRBY', KEYS[1], user, quantity)
redis.call('HSET', KEYS[2], rid, quantity .. ':' .. user .. ':' .. now_ms())
return {1}
