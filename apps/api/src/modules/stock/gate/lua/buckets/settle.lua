-- The sync, in one bucket: holds whose orders are committed, and holds older than the maximum
-- age (their requests died), are dropped; the bucket's counter and the units it still holds are
-- returned, for the sync to spread the product's units over its buckets (buckets/adjust.lua).
-- KEYS: the bucket's stock, the bucket's holds.
-- ARGV: max hold age (ms), then the committed reservation ids.
-- Returns {counter, or -1 when missing; units still held; the reservation ids of the holds
-- dropped as stale; those dropped as committed} (a reservation may hold units in several
-- buckets: the sync counts it once). Uses lib/now.lua.
local max_age = tonumber(ARGV[1])
local committed = {}
for i = 2, #ARGV do committed[ARGV[i]] = true end
local now = now_ms()
local holds = redis.call('HGETALL', KEYS[2])
local held, stale, committed_dropped = 0, {}, {}
for i = 1, #holds, 2 do
  local rid = holds[i]
  local quantity, at = string.match(holds[i + 1], '^(%d+):%d+:(%d+)$')
  if committed[rid] then
    redis.call('HDEL', KEYS[2], rid)
    committed_dropped[#committed_dropped + 1] = rid
  elseif now - tonumber(at) > max_age then
    redis.call('HDEL', KEYS[2], rid)
    stale[#stale + 1] = rid
  else
    held = held + tonumber(quantity)
  end
end
local counter = redis.call('GET', KEYS[1])
return {counter and tonumber(counter) or -1, held, stale, committed_dropped}
