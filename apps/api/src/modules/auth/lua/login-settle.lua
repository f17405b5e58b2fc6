-- The outcome of an admitted sign-in attempt. KEYS as in login-acquire.lua.
-- ARGV[1] succeeded | failed | abandoned   ARGV[2] 1 when the attempt was trusted
-- ARGV[3] how long a pair that signed in stays trusted (ms)
--
-- A failure was already counted when it was admitted. A success forgets the pair's failures,
-- marks the pair trusted, and gives back the slot it took from the account and the address, so
-- many people signing in behind one address never add up. An attempt abandoned by an error
-- (the database, the hashing queue) gives back every slot it took.
local function give_back(key)
  if tonumber(redis.call('HGET', key, 'n') or '0') > 0 then redis.call('HINCRBY', key, 'n', -1) end
end

local outcome = ARGV[1]
if outcome == 'failed' then return 0 end
if outcome == 'succeeded' then
  redis.call('DEL', KEYS[1])
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[3])
else
  give_back(KEYS[1])
end
if ARGV[2] ~= '1' then
  give_back(KEYS[3])
  give_back(KEYS[4])
end
return 0
