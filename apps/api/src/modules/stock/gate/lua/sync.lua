-- Set the gate of one product from the database, in one step.
-- The caller holds the product's stock row lock (no order can commit meanwhile) and passes the
-- database's available units and which of the current holds are already committed orders.
-- KEYS: stock, holds, cap, synced
-- ARGV: available, stock version read with it, max hold age (ms), cap mode, number of committed
--       ids N, N committed ids, then (cap mode 1) pairs of user id and units in the user's live
--       orders.
-- Cap mode: 0 keep the cap table, 1 rebuild it from the pairs plus live holds, 2 delete it.
-- Uses lib/now.lua, lib/uncap.lua and lib/cap-table.lua.
-- Returns {previous counter or -1 when missing, new counter, holds dropped as stale,
--          holds dropped as committed}.
-- Holds still in flight stay subtracted, so a sync during a live sale never re-opens units a
-- request is about to commit, and never strands units of a request that died.
local available = tonumber(ARGV[1])
local version = ARGV[2]
local max_age = tonumber(ARGV[3])
local cap_mode = ARGV[4]
local committed_count = tonumber(ARGV[5])
local committed = {}
for i = 1, committed_count do committed[ARGV[5 + i]] = true end

local now = now_ms()
local previous = redis.call('GET', KEYS[1])
local holds = redis.call('HGETALL', KEYS[2])
local held, stale, committed_dropped = 0, 0, 0
local held_by = {}
for i = 1, #holds, 2 do
  local rid = holds[i]
  local quantity, user, at = string.match(holds[i + 1], '^(%d+):(%d+):(%d+)$')
  quantity = tonumber(quantity)
  if committed[rid] then
    redis.call('HDEL', KEYS[2], rid)
    committed_dropped = committed_dropped + 1
  elseif now - tonumber(at) > max_age then
    redis.call('HDEL', KEYS[2], rid)
    stale = stale + 1
    if cap_mode == '0' then uncap(KEYS[3], user, quantity) end
  else
    held = held + quantity
    held_by[user] = (held_by[user] or 0) + quantity
  end
end

local target = available - held
if target < 0 then target = 0 end
redis.call('SET', KEYS[1], target)
-- Restores committed up to this version are counted now; their late credits must not count.
redis.call('HSET', KEYS[4], 'stock', version)

set_cap_table(KEYS[3], KEYS[4], cap_mode, version, 6 + committed_count, held_by)

return {previous and tonumber(previous) or -1, target, stale, committed_dropped}
