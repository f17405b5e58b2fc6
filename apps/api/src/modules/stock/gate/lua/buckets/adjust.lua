-- The sync moves units between a product's buckets, and sets their total: units are taken
-- from a bucket only as far as it has them (buyers may have taken some meanwhile), so the
-- product's units in the gate never exceed the database's.
-- KEYS: the bucket's stock. ARGV: units to add (positive) or to take (negative).
-- Returns the units added (positive) or taken (negative).
local delta = tonumber(ARGV[1])
if delta >= 0 then
  redis.call('INCRBY', KEYS[1], delta)
  return delta
end
local value = redis.call('GET', KEYS[1])
if not value then
  redis.call('SET', KEYS[1], 0)
  return 0
end
local take = math.min(tonumber(value), -delta)
if take > 0 then redis.call('DECRBY', KEYS[1], take) end
return -take
