-- Units of a cancelled or expired order go back on sale (called once, after the database
-- committed the restore) and stop counting against the user's cap.
-- KEYS: for each line: stock, cap. ARGV: user id, then the quantity of each line.
local user = ARGV[1]
for i = 1, #KEYS / 2 do
  local quantity = tonumber(ARGV[1 + i])
  -- A missing counter is rebuilt from the database, which already holds the restored units.
  if redis.call('EXISTS', KEYS[2 * i - 1]) == 1 then
    redis.call('INCRBY', KEYS[2 * i - 1], quantity)
  end
  local had = redis.call('HGET', KEYS[2 * i], user)
  if had then
    if tonumber(had) > quantity then
      redis.call('HINCRBY', KEYS[2 * i], user, -quantity)
    else
      redis.call('HDEL', KEYS[2 * i], user)
    end
  end
end
return 1
