-- Reserve every line of one order, all or nothing.
-- keys[first_key ..]: for each line, three keys of its product: stock, holds, cap.
-- args[first_arg ..]: for each line, quantity, limit (0 = no per-user limit), product id.
-- Returns {1} when reserved, else {0, reason, line index, value, product id}:
--   'missing' (the gate has no counter for the product: sync it first), 'duplicate' (this
--   reservation already holds units), 'limit' (value: units the user already has),
--   'insufficient' (value: units available).
-- Every check runs before the first write, so a refusal changes nothing and the counter can
-- never go below zero. Uses lib/now.lua.
local function reserve(keys, first_key, args, first_arg, rid, user)
  local lines = (#keys - first_key + 1) / 3
  local function key(i, k) return keys[first_key + 3 * (i - 1) + k] end
  local function arg(i, k) return args[first_arg + 3 * (i - 1) + k] end

  local stock = {}
  for i = 1, lines do
    local value = redis.call('GET', key(i, 0))
    if not value then return {0, 'missing', i, 0, tonumber(arg(i, 2))} end
    stock[i] = tonumber(value)
    if redis.call('HEXISTS', key(i, 1), rid) == 1 then
      return {0, 'duplicate', i, 0, tonumber(arg(i, 2))}
    end
  end

  -- The per-user cap is checked before stock: API.md answers purchase_limit_exceeded first.
  for i = 1, lines do
    local quantity = tonumber(arg(i, 0))
    local limit = tonumber(arg(i, 1))
    if limit > 0 then
      local had = tonumber(redis.call('HGET', key(i, 2), user) or '0')
      if had + quantity > limit then return {0, 'limit', i, had, tonumber(arg(i, 2))} end
    end
  end

  for i = 1, lines do
    if stock[i] < tonumber(arg(i, 0)) then
      return {0, 'insufficient', i, stock[i], tonumber(arg(i, 2))}
    end
  end

  local now = now_ms()
  for i = 1, lines do
    local quantity = tonumber(arg(i, 0))
    redis.call('DECRBY', key(i, 0), quantity)
    redis.call('HSET', key(i, 1), rid, quantity .. ':' .. user .. ':' .. now)
    if tonumber(arg(i, 1)) > 0 then redis.call('HINCRBY', key(i, 2), user, quantity) end
  end
  return {1}
end
