-- The orders holding these reservations are committed: their units now belong to the orders,
-- so the holds are dropped without crediting anything. Safe to repeat.
-- KEYS: holds of one product. ARGV: reservation ids.
return redis.call('HDEL', KEYS[1], unpack(ARGV))
