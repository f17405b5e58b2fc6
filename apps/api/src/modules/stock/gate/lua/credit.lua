-- Units of a cancelled or expired order go back on sale (called once, after the database
-- committed the restore) and stop counting against the user's cap.
-- KEYS: for each line: stock, cap, synced. ARGV: user id, then for each line its quantity and
-- the stock version the restore's update produced. Returns 1. Uses lib/uncap.lua.
-- A sync that read the stock row after the restore committed has counted the units already
-- (synced.stock >= version), and one that rebuilt the caps then has uncounted them
-- (synced.cap >= version): crediting again would open units that do not exist.
local user = ARGV[1]
for i = 1, #KEYS / 3 do
  local stock, cap, synced = KEYS[3 * i - 2], KEYS[3 * i - 1], KEYS[3 * i]
  local quantity = tonumber(ARGV[2 * i])
  local version = tonumber(ARGV[2 * i + 1])
  local seen = redis.call('HMGET', synced, 'stock', 'cap')
  -- A missing counter is rebuilt from the database, which already holds the restored units.
  if redis.call('EXISTS', stock) == 1 and version > tonumber(seen[1] or '0') then
    redis.call('INCRBY', stock, quantity)
  end
  if version > tonumber(seen[2] or '0') then uncap(cap, user, quantity) end
end
return 1
