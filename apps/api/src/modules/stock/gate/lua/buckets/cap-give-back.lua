-- Compensation of buckets/cap-take.lua: the reservation's cap units stop counting, once.
-- KEYS: cap, cap holds. ARGV: reservation id.
-- Returns the units given back (0 when the reservation held none). Uses lib/uncap.lua.
local hold = redis.call('HGET', KEYS[2], ARGV[1])
if not hold then return 0 end
local quantity, user = string.match(hold, '^(%d+):(%d+):')
redis.call('HDEL', KEYS[2], ARGV[1])
uncap(KEYS[1], user, tonumber(quantity))
return tonumber(quantity)
