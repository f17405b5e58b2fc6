-- The sync of a split product, on its base slot. Two kinds of hold live here: the cap holds of
-- lines taken over the buckets (their units are in the buckets' holds) and the holds of lines
-- taken whole (before the split, or by a process that had not heard of it yet), which hold
-- units of the base counter and their cap units both. Of each, holds whose orders are committed
-- are dropped, and holds older than the maximum age are dropped and, keeping the cap table,
-- uncapped. The cap table is then kept, rebuilt from live orders plus the live holds, or
-- cleared, and the stock version the sync read is recorded (credits it already counts are not
-- applied again).
-- KEYS: cap, cap holds, synced, holds of lines taken whole.
-- ARGV: stock version, max hold age (ms), cap mode (0 keep, 1 rebuild, 2 clear), number of
--       committed ids N, N committed ids, then (mode 1) pairs of user id and live units.
-- Returns {units the whole holds still hold, ids dropped as stale, ids dropped as committed}.
-- Uses lib/now.lua, lib/uncap.lua and lib/cap-table.lua.
local version, max_age, cap_mode = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local committed_count = tonumber(ARGV[4])
local committed = {}
for i = 1, committed_count do committed[ARGV[4 + i]] = true end
local now = now_ms()
local stale, committed_dropped = {}, {}
local held_by = {}
local whole_held = 0
local function settle(key, whole)
  local holds = redis.call('HGETALL', key)
  for i = 1, #holds, 2 do
    local rid = holds[i]
    local quantity, user, at = string.match(holds[i + 1], '^(%d+):(%d+):(%d+)$')
    quantity = tonumber(quantity)
    if committed[rid] then
      redis.call('HDEL', key, rid)
      committed_dropped[#committed_dropped + 1] = rid
    elseif now - tonumber(at) > max_age then
      redis.call('HDEL', key, rid)
      stale[#stale + 1] = rid
      if cap_mode == '0' then uncap(KEYS[1], user, quantity) end
    else
      held_by[user] = (held_by[user] or 0) + quantity
      if whole then whole_held = whole_held + quantity end
    end
  end
end
settle(KEYS[2], false)
settle(KEYS[4], true)
redis.call('HSET', KEYS[3], 'stock', version)
set_cap_table(KEYS[1], KEYS[3], cap_mode, version, 5 + committed_count, held_by)
return {whole_held, stale, committed_dropped}
