-- What the sweep needs to know of one product's gate, changing nothing.
-- KEYS: stock, holds. ARGV: max hold age (ms).
-- Returns {counter, or -1 when the gate has none; units held; holds older than the max age}.
-- Uses lib/now.lua.
local max_age = tonumber(ARGV[1])
local now = now_ms()
local counter = redis.call('GET', KEYS[1])
local holds = redis.call('HVALS', KEYS[2])
local held, stale = 0, 0
for i = 1, #holds do
  local quantity, at = string.match(holds[i], '^(%d+):%d+:(%d+)$')
  held = held + tonumber(quantity)
  if now - tonumber(at) > max_age then stale = stale + 1 end
end
return {counter and tonumber(counter) or -1, held, stale}
