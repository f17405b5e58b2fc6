-- A user's units stop counting against a product's cap.
-- uncap(cap hash, user id, units): the user's entry shrinks by the units, or goes when no units
-- are left; a user without an entry is left alone.
local function uncap(cap, user, quantity)
  local had = redis.call('HGET', cap, user)
  if not had then return end
  if tonumber(had) > quantity then
    redis.call('HINCRBY', cap, user, -quantity)
  else
    redis.call('HDEL', cap, user)
  end
end
