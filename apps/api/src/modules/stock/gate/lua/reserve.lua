-- Reserve every line of one order, all or nothing.
-- KEYS: for each line i, three keys of its product: stock (3i-2), holds (3i-1), cap (3i)
-- ARGV: reservation id, user id, then for each line: quantity, limit (0 = no per-user limit)
-- Returns {1} when reserved, else {0, reason, line index, value}:
--   'missing' (the gate has no counter for the product: sync it first), 'duplicate' (this
--   reservation already holds units), 'limit' (value: units the user already has),
--   'insufficient' (value: units available).
-- Every check runs before the first write, so a refusal changes nothing and the counter can
-- never go below zero.
local rid = ARGV[1]
local user = ARGV[2]
local lines = #KEYS / 3

local stock = {}
for i = 1, lines do
  local value = redis.call('GET', KEYS[3 * i - 2])
  if not value then return {0, 'missing', i, 0} end
  stock[i] = tonumber(value)
  if redis.call('HEXISTS', KEYS[3 * i - 1], rid) == 1 then return {0, 'duplicate', i, 0} end
end

-- The per-user cap is checked before stock: API.md answers purchase_limit_exceeded first.
for i = 1, lines do
  local quantity = tonumber(ARGV[1 + 2 * i])
  local limit = tonumber(ARGV[2 + 2 * i])
  if limit > 0 then
    local had = tonumber(redis.call('HGET', KEYS[3 * i], user) or '0')
    if had + quantity > limit then return {0, 'limit', i, had} end
  end
end

for i = 1, lines do
  local quantity = tonumber(ARGV[1 + 2 * i])
  if stock[i] < quantity then return {0, 'insufficient', i, stock[i]} end
end

local time = redis.call('TIME')
local now = time[1] * 1000 + math.floor(time[2] / 1000)
for i = 1, lines do
  local quantity = tonumber(ARGV[1 + 2 * i])
  local limit = tonumber(ARGV[2 + 2 * i])
  redis.call('DECRBY', KEYS[3 * i - 2], quantity)
  redis.call('HSET', KEYS[3 * i - 1], rid, quantity .. ':' .. user .. ':' .. now)
  if limit > 0 then redis.call('HINCRBY', KEYS[3 * i], user, quantity) end
end
return {1}
