-- Compensation in one bucket: the reservation's units there go back on sale, once (the hold is
-- removed and the units credited in one step). The cap is the base slot's
-- (buckets/cap-give-back.lua).
-- KEYS: the bucket's stock, the bucket's holds. ARGV: reservation id.
-- Returns the units credited.
local hold = redis.call('HGET', KEYS[2], ARGV[1])
if not hold then return 0 end
local quantity = tonumber(string.match(hold, '^(%d+):'))
redis.call('HDEL', KEYS[2], ARGV[1])
-- A missing counter is rebuilt from the database, which never counted these units as sold.
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('INCRBY', KEYS[1], quantity) end
return quantity
