-- A request gave up on its reservation without knowing whether its order was written (the
-- database failed in the middle of the transaction). Its holds are marked stale, so that the
-- next sync settles them against the database (the units stay sold when the order exists, and
-- go back on sale when it does not) instead of waiting for them to age out.
-- KEYS: holds of each product of the order. ARGV: reservation id.
-- Returns the number of holds marked.
local marked = 0
for i = 1, #KEYS do
  local hold = redis.call('HGET', KEYS[i], ARGV[1])
  if hold then
    local quantity, user = string.match(hold, '^(%d+):(%d+):')
    redis.call('HSET', KEYS[i], ARGV[1], quantity .. ':' .. user .. ':0')
    marked = marked + 1
  end
end
return marked
