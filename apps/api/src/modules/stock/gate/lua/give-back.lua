-- Compensation: the database step failed for good, so the reservation's units go back on sale.
-- The hold is removed and its units credited in one step, so a repeat credits nothing twice.
-- KEYS: for each product of the order: stock, holds, cap. ARGV: reservation id.
-- Returns the units credited. Uses lib/uncap.lua.
local rid = ARGV[1]
local credited = 0
for i = 1, #KEYS / 3 do
  local hold = redis.call('HGET', KEYS[3 * i - 1], rid)
  if hold then
    local quantity, user = string.match(hold, '^(%d+):(%d+):')
    quantity = tonumber(quantity)
    redis.call('HDEL', KEYS[3 * i - 1], rid)
    -- A missing counter is rebuilt from the database, which never counted these units as sold.
    if redis.call('EXISTS', KEYS[3 * i - 2]) == 1 then
      redis.call('INCRBY', KEYS[3 * i - 2], quantity)
    end
    uncap(KEYS[3 * i], user, quantity)
    credited = credited + quantity
  end
end
return credited
